"""Fixtures for the quality-model tests: the built models and CPU-only settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from winnow.settings import Settings
from winnow.testing.models import ensure_models

REPO = Path(__file__).resolve().parents[2]
DATA_ROOT = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The repository's models folder, with the embedder built if it was absent.

    Fails (never skips) when it cannot be built: CI builds the models first, so a missing
    build extra is a set-up error worth seeing.
    """
    return ensure_models(REPO / "models")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The shared datasets beside the repository (read in place)."""
    assert DATA_ROOT.is_dir(), f"shared datasets not found at {DATA_ROOT}"
    return DATA_ROOT


@pytest.fixture
def cpu_settings(models_dir: Path) -> Settings:
    """Settings that run the scorer on the CPU (int8) with the repository's models."""
    return Settings(models_dir=models_dir, ort_providers=["CPUExecutionProvider"])


@pytest.fixture(autouse=True)
def _plain_structlog() -> None:
    """Start each test from structlog's defaults.

    A CLI test elsewhere may have configured logging onto CliRunner's stderr, which is closed
    once that test ends; logging there would raise ``ValueError: I/O operation on closed file``.
    """
    structlog.reset_defaults()
