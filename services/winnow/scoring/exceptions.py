"""Errors of the scoring models; all subclass :class:`winnow.errors.WinnowError`."""

from __future__ import annotations

from winnow.errors import WinnowError


class ScoringError(WinnowError):
    """The quality models could not be loaded or run."""


class ModelsNotBuiltError(ScoringError):
    """A model artefact (embedder, tokenizer or head) is missing: run ``winnow models build``.

    The scorer agent catches exactly this to fall back to heuristic scores.
    """


class ModelAgreementError(ScoringError):
    """An exported model disagrees with its PyTorch reference beyond the tolerance."""
