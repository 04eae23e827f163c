"""Shared fixtures: a fresh PostgreSQL database per test session and a SQLite file per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from winnow.testing.fixtures import DEFAULT_ADMIN_URL, fresh_postgres_database

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database (``WINNOW_TEST_POSTGRES_ADMIN_URL`` names the server)."""
    with fresh_postgres_database(
        os.environ.get("WINNOW_TEST_POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL)
    ) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'winnow.db'}"
