"""Fixtures for the quality-model tests (here and in ``build/``): the built models, CPU-only
settings and the shared datasets, from ``winnow.testing.pytest_models``."""

from __future__ import annotations

from winnow.testing.pytest_models import (  # noqa: F401  (fixtures, found by name)
    _plain_structlog,
    cpu_settings,
    data_root,
    models_dir,
    sample_data,
)
