"""The benchmarks' smoke tests score with the repository's models."""

from __future__ import annotations

from winnow.testing.pytest_models import models_dir  # noqa: F401  (a fixture, found by name)
