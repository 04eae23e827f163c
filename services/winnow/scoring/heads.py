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
    """Softmax over the taxonomy (``other`` last); ``other`` when not confident enough.

    The head's ``rule`` metadata says what the threshold applies to: ``top_probability`` (the
    highest class probability; heads without the key) or ``in_scope_mass`` (``1 - p(other)``;
    the label is then the most probable in-scope class). With fine-grained taxonomies two close
    intents split the probability, so the top probability is low on texts that are plainly in
    scope; their in-scope mass is not.
    """

    RULES = ("top_probability", "in_scope_mass")

    def __init__(self, path: Path, config: SessionConfig) -> None:
        super().__init__(path, config)
        try:
            self.labels: list[str] = json.loads(self.meta["labels"])
            self.threshold = float(self.meta["threshold"])
        except (KeyError, ValueError) as exc:
            raise ScoringError(f"router head {path} lacks labels/threshold metadata") from exc
        self.rule = self.meta.get("rule", "top_probability")
        if self.rule not in self.RULES:
            raise ScoringError(f"router head {path}: unknown rule {self.rule!r}")
        if self.rule == "in_scope_mass" and self.labels[-1:] != [OTHER]:
            raise ScoringError(f"router head {path}: in_scope_mass needs `other` as last label")

    def probabilities(self, embeddings: FloatArray) -> FloatArray:
        """Class probabilities, one row per embedding, columns in ``labels`` order."""
        out = self.session.run(None, {"embedding": embeddings.astype(np.float32)})[0]
        return np.asarray(out, dtype=np.float32)

    def route(
        self, embeddings: FloatArray, min_confidence: float | None = None
    ) -> tuple[list[str], list[float]]:
        """Labels and their top probabilities; not confident enough -> ``other``.

        ``min_confidence`` (default: the calibrated threshold) applies to the head's rule.
        """
        threshold = self.threshold if min_confidence is None else min_confidence
        if len(embeddings) == 0:
            return [], []
        probs = self.probabilities(embeddings)
        if self.rule == "in_scope_mass":
            top = probs[:, :-1].argmax(axis=1)
            other_wins = probs.argmax(axis=1) == probs.shape[1] - 1
            confident = (1.0 - probs[:, -1] >= threshold) & ~other_wins
        else:
            top = probs.argmax(axis=1)
            confident = probs[np.arange(len(top)), top] >= threshold
        labels = [
            self.labels[int(i)] if ok else OTHER for i, ok in zip(top, confident, strict=True)
        ]
        # The top probability either way: under in_scope_mass a kept label is also the most
        # probable class, and a rejected text keeps the confidence it fell short with.
        confidences = [float(c) for c in probs.max(axis=1)]
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
