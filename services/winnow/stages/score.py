"""The scorer's stage: heuristic signals always, then the ONNX quality models when loaded.

Kafka-free: the scorer agent loads the models from settings (:func:`with_quality_models`) and
runs :func:`score_isolating` on each batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import structlog

from winnow.example import Example
from winnow.stages.heuristics import score_heuristics
from winnow.stages.isolate import run_isolating

log = structlog.get_logger(__name__)

BatchScorer = Callable[[list[Example]], list[Example]]
"""Scores a batch: returns scored copies in input order."""

POISON_ERROR_CHARS = 500
"""How much of a poison example's error the dead letter keeps."""


class QualityModels(Protocol):
    """What the stage needs of the quality models (``winnow.scoring.QualityScorer``)."""

    def score_batch(self, examples: list[Example]) -> list[Example]:
        """Scored copies of ``examples``, in input order."""
        ...


def heuristic_batch(examples: list[Example]) -> list[Example]:
    """Score a batch with the heuristic signals only."""
    return [score_heuristics(e) for e in examples]


def with_quality_models(quality: QualityModels) -> BatchScorer:
    """A batch scorer that adds the heuristic signals, then the quality models' scores."""

    def score(examples: list[Example]) -> list[Example]:
        return quality.score_batch(heuristic_batch(examples))

    return score


def score_isolating(
    score_batch: BatchScorer, examples: list[Example]
) -> tuple[list[Example], list[tuple[Example, str]]]:
    """Score a batch; if the batch fails, score one by one and return the ones that fail alone.

    A failing example comes back with its error (``Type: message``, cut to 500 characters).
    """
    if not examples:
        return [], []
    scored, failed = run_isolating(
        examples,
        lambda batch: score_batch(list(batch)),
        lambda parts: [e for part in parts for e in part],
        on_batch_failure=lambda _: log.exception("batch_scoring_failed", size=len(examples)),
    )
    poison = [(e, f"{type(exc).__name__}: {exc}"[:POISON_ERROR_CHARS]) for e, exc in failed]
    return scored, poison
