"""CUDA asked for on a machine without a usable GPU: log once, run int8 on the CPU, never crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from winnow.scoring import QualityScorer, embedder, runtime
from winnow.settings import Settings
from winnow.testing.examples import make_example


class RecordingLog:
    """Stands in for the structlog logger to count warnings and info lines."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.infos: list[str] = []

    def warning(self, event: str, **_: Any) -> None:
        self.warnings.append(event)

    def info(self, event: str, **_: Any) -> None:
        self.infos.append(event)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> RecordingLog:
    """A fresh once-per-process memory and a recording logger."""
    rec = RecordingLog()
    monkeypatch.setattr(runtime, "_log", lambda: rec)
    monkeypatch.setattr(runtime, "_warned", set())
    return rec


def _cuda_works() -> bool:
    return runtime.cuda_usable(runtime.import_ort())


@pytest.mark.skipif(_cuda_works(), reason="this machine has a working GPU: nothing falls back")
class TestCudaFallback:
    def test_no_gpu_falls_back_to_cpu_int8(self, models_dir: Path, recording: RecordingLog) -> None:
        """Default providers (CUDA first) on a GPU-less machine score on the CPU with int8."""
        settings = Settings(models_dir=models_dir)
        assert settings.ort_providers[0] == "CUDAExecutionProvider"
        scorer = QualityScorer.from_settings(settings)
        assert scorer.embedder.providers == ["CPUExecutionProvider"]
        assert scorer.embedder.precision == "int8"
        (ex,) = scorer.score_batch([make_example("Where is my parcel?", "On its way.")])
        assert "reward" in ex.scores
        QualityScorer.from_settings(settings)  # a second scorer in the same process
        # No GPU is the normal case on a CPU machine: said once at info level, no warning.
        assert recording.infos == ["cuda_unavailable_using_cpu"] and recording.warnings == []

    def test_silent_ort_fallback_is_detected(
        self, models_dir: Path, recording: RecordingLog, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When the driver check passes but ORT drops CUDA, get_providers() catches it."""
        monkeypatch.setattr(embedder, "cuda_usable", lambda _ort: True)
        scorer = QualityScorer.from_settings(Settings(models_dir=models_dir))
        assert scorer.embedder.providers == ["CPUExecutionProvider"]
        assert scorer.embedder.precision == "int8"
        assert recording.warnings == ["cuda_unavailable_using_cpu"]
