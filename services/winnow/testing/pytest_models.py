"""Pytest fixtures for the tests of the quality models: the built models, the shared datasets.

A conftest shares them by importing the ones it needs (pytest finds fixtures by name in the
conftest's namespace)::

    from winnow.testing.pytest_models import cpu_settings, data_root, models_dir  # noqa: F401

(``pytest_plugins`` would do, but only in the top-level conftest, where it reaches every test.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import structlog

from winnow.settings import Settings
from winnow.testing.fixtures import SAMPLE_DATA_DIR, full_data_dir
from winnow.testing.models import ensure_models

REPO = Path(__file__).resolve().parents[3]
"""The repository root (``services/winnow/testing`` is three folders down)."""


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The repository's models folder, with the embedder built if it was absent.

    Fails (never skips) when it cannot be built: CI builds the models first, so a missing
    build extra is a set-up error worth seeing.
    """
    return ensure_models(REPO / "models")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The full public datasets (read in place), for the tests that train or count on them.

    Absent, the test is skipped with the reason on a workstation and fails under CI
    (``CI=true``), where a skip would hide the tests that train and measure on real data.
    """
    root = full_data_dir()
    if root is None or not root.is_dir():
        reason = (
            f"full datasets not found (at {root}): set WINNOW_DATASETS_DIR to their folder"
            if root is not None
            else "full datasets not found: set WINNOW_DATASETS_DIR to their folder"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the dataset tests must run in CI: {reason}")
        pytest.skip(reason)
    return root


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """The vendored samples under ``tests/data``: real rows, always present in a checkout."""
    return SAMPLE_DATA_DIR


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
