"""Errors raised while building or training models."""

from __future__ import annotations

from winnow.scoring.exceptions import ScoringError


class BuildDependencyError(ScoringError):
    """A build-time package (torch, transformers, onnx, the model wheel) is not installed."""


class TrainingDataError(ScoringError):
    """Training data is missing or unusable (no rows, one label, unreadable CSV)."""
