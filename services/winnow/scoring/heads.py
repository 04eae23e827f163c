"""The small ONNX heads over MiniLM embeddings: the domain router and the reward head.

Each head file carries its own metadata (labels, calibrated threshold, training provenance) in
the ONNX ``metadata_props``, so the committed ``.onnx`` is the single source of truth.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from winnow.scoring.artefacts import head_path, require_file, sha256_file
from winnow.scoring.exceptions import ScoringError
from winnow.scoring.runtime import CPU, SessionConfig, open_session

FloatArray = npt.NDArray[np.float32]
OTHER = "other"


class Head:
    """One head session on the CPU (a few matrix products: a GPU round trip would cost more)."""

    def __init__(self, path: Path, config: SessionConfig) -> None:
        cpu = SessionConfig(
            providers=[CPU],
            intra_op_threads=1,
            inter_op_threads=1,
            graph_optimization=config.graph_optimization,
            log_severity=config.log_severity,
        )
        self.path = path
        self.session: Any = open_session(path, cpu, cuda=False)
        self.meta: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.name = self.meta.get("head", path.stem)
        self.version = f"{self.name}:{sha256_file(path)[:12]}"

    @classmethod
    def load(cls, models_dir: Path, name: str, config: SessionConfig) -> Self:
        """Load ``heads/<name>.onnx`` or raise :class:`ModelsNotBuiltError`."""
        return cls(require_file(head_path(models_dir, name), f"{name} head"), config)


class RouterHead(Head):
    """Softmax over the taxonomy; ``other`` when the top probability is under the threshold."""

    def __init__(self, path: Path, config: SessionConfig) -> None:
        super().__init__(path, config)
        try:
            self.labels: list[str] = json.loads(self.meta["labels"])
            self.threshold = float(self.meta["threshold"])
        except (KeyError, ValueError) as exc:
            raise ScoringError(f"router head {path} lacks labels/threshold metadata") from exc

    def probabilities(self, embeddings: FloatArray) -> FloatArray:
        """Class probabilities, one row per embedding, columns in ``labels`` order."""
        out = self.session.run(None, {"embedding": embeddings.astype(np.float32)})[0]
        return np.asarray(out, dtype=np.float32)

    def route(
        self, embeddings: FloatArray, min_confidence: float | None = None
    ) -> tuple[list[str], list[float]]:
        """Labels and their confidences; under ``min_confidence`` (default: calibrated) -> other."""
        threshold = self.threshold if min_confidence is None else min_confidence
        if len(embeddings) == 0:
            return [], []
        probs = self.probabilities(embeddings)
        top = probs.argmax(axis=1)
        labels: list[str] = []
        confidences: list[float] = []
        for row, idx in enumerate(top):
            conf = float(probs[row, idx])
            label = self.labels[int(idx)]
            labels.append(label if conf >= threshold else OTHER)
            confidences.append(conf)
        return labels, confidences


class RewardHead(Head):
    """P(the response is the preferred one | prompt), from prompt and response embeddings."""

    def reward(self, prompts: FloatArray, responses: FloatArray) -> FloatArray:
        """One probability in (0, 1) per (prompt, response) row pair."""
        if len(prompts) == 0:
            return np.zeros(0, dtype=np.float32)
        feeds = {"prompt": prompts.astype(np.float32), "response": responses.astype(np.float32)}
        out = self.session.run(["reward"], feeds)[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)
