"""The cross-encoder reward: MiniLM reads (conversation context, response) jointly.

The model (``models/reward/cross.int8.onnx``, built by ``winnow models train reward-cross``)
outputs an unnormalised score; comparing two responses to the same context, P(a preferred over
b) = sigmoid(score_a - score_b). Curation thresholds and dashboards expect a reward in (0, 1), so
``reward`` maps the score through sigmoid((score - center) / scale), with ``center`` and
``scale`` measured at export time (the median and spread of validation response scores) and
kept in the ONNX metadata: 0.5 is a median response of the validation set, not a probability
that the answer is correct.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from winnow.events import ChatMessage, Role
from winnow.scoring.artefacts import require_file, sha256_file
from winnow.scoring.exceptions import ScoringError
from winnow.scoring.runtime import (
    SessionConfig,
    cuda_usable,
    import_ort,
    open_session,
    uses_cuda,
    wants_cuda,
)
from winnow.scoring.tokenizer import PairTokenizer

FloatArray = npt.NDArray[np.float32]

REWARD_DIR = "reward"
CROSS_INT8 = "cross.int8.onnx"
CROSS_FP16 = "cross.fp16.onnx"
TOKENIZER = "tokenizer.json"
SPEAKERS = {Role.USER: "Customer", Role.ASSISTANT: "Agent"}
_SPACES = re.compile(r"\s+")


def render_context(turns: Sequence[ChatMessage]) -> str:
    """The training text of a context: ``Customer: ...`` / ``Agent: ...``, one line per turn.

    System turns are left out (the training conversations had none); whitespace inside a turn
    collapses to one space, as in the training pairs.
    """
    lines = [
        f"{SPEAKERS[m.role]}: {_SPACES.sub(' ', m.content).strip()}"
        for m in turns
        if m.role in SPEAKERS
    ]
    return "\n".join(lines)


def cross_path(models_dir: Path) -> Path:
    """The committed int8 cross-encoder (CPU)."""
    return models_dir / REWARD_DIR / CROSS_INT8


def cross_available(models_dir: Path) -> bool:
    """Whether the cross-encoder and its tokenizer are present under ``models_dir``."""
    folder = models_dir / REWARD_DIR
    return (folder / CROSS_INT8).is_file() and (folder / TOKENIZER).is_file()


class CrossEncoderReward:
    """One ONNX session over (context, response) pairs; int8 on the CPU, fp16 on CUDA if built."""

    def __init__(self, path: Path, tokenizer_path: Path, config: SessionConfig, batch_max: int):
        self.session: Any = open_session(path, config, cuda=path.name == CROSS_FP16)
        self.meta: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        try:
            self.center = float(self.meta["center"])
            self.scale = float(self.meta["scale"])
            max_length = int(self.meta["max_length"])
            context_min_frac = float(self.meta["context_min_frac"])
        except (KeyError, ValueError) as exc:
            raise ScoringError(f"cross-encoder {path} lacks its calibration metadata") from exc
        self.tokenizer = PairTokenizer(tokenizer_path, max_length, context_min_frac)
        self.batch_max = batch_max
        self.path = path
        self.version = f"cross-minilm:{sha256_file(path)[:12]}"
        self.providers: list[str] = list(self.session.get_providers())

    @classmethod
    def load(cls, models_dir: Path, config: SessionConfig, batch_max: int = 32) -> Self:
        """Load ``reward/cross.*.onnx`` (fp16 when CUDA is wanted, usable and built)."""
        folder = models_dir / REWARD_DIR
        tokenizer = require_file(folder / TOKENIZER, "cross-encoder tokenizer")
        fp16 = folder / CROSS_FP16
        if wants_cuda(config) and fp16.is_file() and cuda_usable(import_ort(config.log_severity)):
            model = cls(fp16, tokenizer, config, batch_max)
            if uses_cuda(model.session):
                return model
        return cls(
            require_file(folder / CROSS_INT8, "cross-encoder reward"), tokenizer, config, batch_max
        )

    def provenance(self) -> dict[str, Any]:
        """What the model card and ``winnow models`` report: metrics and how it was produced."""
        return json.loads(self.meta.get("provenance", "{}"))  # type: ignore[no-any-return]

    def raw_scores(self, contexts: list[str], responses: list[str]) -> FloatArray:
        """Unnormalised scores, one per (context, response); batched by length."""
        out = np.zeros(len(responses), dtype=np.float32)
        order = sorted(range(len(responses)), key=lambda i: len(contexts[i]) + len(responses[i]))
        for start in range(0, len(order), self.batch_max):
            rows = order[start : start + self.batch_max]
            ids, mask, types = self.tokenizer(
                [contexts[i] for i in rows], [responses[i] for i in rows]
            )
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            scores = self.session.run(["score"], feeds)[0]
            out[rows] = np.asarray(scores, dtype=np.float32).reshape(-1)
        return out

    def reward(self, contexts: list[str], responses: list[str]) -> FloatArray:
        """Rewards in (0, 1): sigmoid((score - center) / scale), see the module docstring."""
        if not responses:
            return np.zeros(0, dtype=np.float32)
        raw = self.raw_scores(contexts, responses)
        return np.asarray(1.0 / (1.0 + np.exp(-(raw - self.center) / self.scale)), np.float32)

    def reward_turns(
        self, contexts: Sequence[Sequence[ChatMessage]], responses: list[str]
    ) -> FloatArray:
        """Rewards for responses given the turns before each (per-turn scoring of a ticket)."""
        return self.reward([render_context(c) for c in contexts], responses)
