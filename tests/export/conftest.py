"""Fixtures for export tests: a migrated, empty store on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from winnow.store import ExampleStore
from winnow.store.migrate import upgrade

from .s3lib import s3, s3_server  # noqa: F401  (fixtures of the object-storage tests)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[ExampleStore]:
    """A migrated, empty store on each backend."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    s = ExampleStore(url)
    with s.engine.begin() as conn:
        for table in ("examples", "rejections", "dead_letters", "snapshots"):
            conn.execute(text(f"DELETE FROM {table}"))
    yield s
    s.close()
