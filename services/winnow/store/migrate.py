"""Alembic, driven from Python: ``winnow db upgrade`` and the services' start-up check."""

from __future__ import annotations

import time
from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from winnow.backoff import Backoff
from winnow.errors import StoreError
from winnow.store.store import make_engine

_MIGRATIONS = Path(__file__).with_name("migrations")
log = structlog.get_logger(__name__)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at Winnow's migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def wait_for_database(url: str, timeout_s: float = 60.0) -> None:
    """Block until the database answers, with back-off; raise ``StoreError`` after ``timeout_s``."""
    _ensure_sqlite_dir(url)
    engine = make_engine(url)
    deadline = time.monotonic() + timeout_s
    backoff = Backoff(base_s=0.25, max_s=5.0)
    try:
        while True:
            try:
                with engine.connect():
                    return
            except OperationalError as exc:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"database unreachable after {timeout_s:.0f} s: {exc}"
                    ) from exc
                delay = backoff.next()
                log.warning("database_unreachable", retry_in_s=round(delay, 3))
                time.sleep(delay)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Wait for the database, then apply migrations up to ``revision``."""
    wait_for_database(url)
    command.upgrade(alembic_config(url), revision)


def is_current(url: str) -> bool:
    """True when the database is at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() == head
    finally:
        engine.dispose()
