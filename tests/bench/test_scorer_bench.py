"""The benchmark entry points run end to end on a tiny workload (numbers are not asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from winnow.bench import gpu as gpu_bench


class TestGpuBenchOnCpu:
    def test_cpu_mode_prints_both_paths_and_agreement(
        self, models_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`bench/gpu.sh --cpu`'s module prints scorer vs bare ORT rows and the int8 agreement."""
        rc = gpu_bench.main(
            [
                "--provider",
                "cpu",
                "--examples",
                "8",
                "--batch-sizes",
                "4",
                "--repeat",
                "1",
                "--models-dir",
                str(models_dir),
            ]
        )
        out = capsys.readouterr().out
        assert rc == 0
        row = next(line for line in out.splitlines() if line.startswith("| 4 |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 6
        assert float(cells[3]) > 0 and float(cells[5]) > 0
        assert "agreement int8 on CPUExecutionProvider vs fp32 CPU: cosine mean 0.99" in out

    def test_synthetic_pairs_are_unique_and_span_buckets(self) -> None:
        """Generated texts never repeat and include answers beyond 1,000 characters."""
        pairs = gpu_bench.synthetic_pairs(300)
        texts = [t for p in pairs for t in p]
        assert len(set(texts)) == len(texts)
        assert min(len(a) for _, a in pairs) < 200 < 1000 < max(len(a) for _, a in pairs)
