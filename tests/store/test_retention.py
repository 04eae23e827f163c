"""Dead-letter retention: `winnow dlq purge` deletes rows past the window, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from winnow.errors import WinnowError
from winnow.reasons import DeadLetterReason
from winnow.settings import get_settings
from winnow.stages.decode import Coordinates, dead_letter
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.store.retention import expire_dead_letters, parse_age
from winnow.store.tables import DeadLetterRow

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[ExampleStore]:
    """A migrated store with no dead letters, on each backend."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    s = ExampleStore(url)
    with s.engine.begin() as conn:
        conn.execute(text("DELETE FROM dead_letters"))
    yield s
    s.close()


def _letters(ages_days: list[float]) -> list[object]:
    return [
        dead_letter(
            f"raw {i}".encode(),
            Coordinates("t", 0, i),
            DeadLetterReason.INVALID_JSON,
            "bad",
            stage="validator",
        ).model_copy(update={"failed_at": NOW - timedelta(days=age)})
        for i, age in enumerate(ages_days)
    ]


def _ages(store: ExampleStore) -> list[int]:
    with store.engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(select(DeadLetterRow.offset)))  # type: ignore[arg-type]


def test_purge_deletes_only_older_rows(store: ExampleStore) -> None:
    """Rows past the window go; the rest stay; a dry run deletes nothing; a rerun is a no-op."""
    store.record_dead_letters(_letters([0.5, 6.9, 7.1, 30, 400]))  # type: ignore[arg-type]
    assert expire_dead_letters(store.engine, timedelta(days=7), now=NOW, dry_run=True) == 3
    assert _ages(store) == [0, 1, 2, 3, 4]
    assert expire_dead_letters(store.engine, timedelta(days=7), now=NOW) == 3
    assert _ages(store) == [0, 1]
    assert expire_dead_letters(store.engine, timedelta(days=7), now=NOW) == 0


def test_cli_purge_uses_the_setting_or_the_option(
    store: ExampleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`winnow dlq purge` defaults to WINNOW_DLQ_RETENTION_DAYS; a bad age is one line, exit 2."""
    from winnow.cli.main import app

    now = datetime.now(UTC)
    letters = [
        letter.model_copy(update={"failed_at": now - (NOW - letter.failed_at)})  # type: ignore[attr-defined]
        for letter in _letters([1, 3, 10])
    ]
    store.record_dead_letters(letters)  # type: ignore[arg-type]
    monkeypatch.setenv("WINNOW_DATABASE_URL", str(store.engine.url.render_as_string(False)))
    monkeypatch.setenv("WINNOW_DLQ_RETENTION_DAYS", "5")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        out = runner.invoke(app, ["dlq", "purge"])
        assert out.exit_code == 0, out.output
        assert "deleted 1 dead letters older than 5 days" in out.output
        assert _ages(store) == [0, 1]
        out = runner.invoke(app, ["dlq", "purge", "--older-than", "48h"])
        assert out.exit_code == 0 and "deleted 1 " in out.output
        assert _ages(store) == [0]
        bad = runner.invoke(app, ["dlq", "purge", "--older-than", "soon"], env={"COLUMNS": "300"})
        assert bad.exit_code == 2 and "not a positive number with d, h or m" in bad.output
        assert "Traceback" not in bad.output
    finally:
        get_settings.cache_clear()
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(DeadLetterRow)).scalar_one() == 1


@pytest.mark.parametrize("text_", ["0d", "-1d", "7", "7 days", "d"])
def test_bad_ages_are_refused(text_: str) -> None:
    """Only a positive number with a unit is an age."""
    with pytest.raises(WinnowError):
        parse_age(text_)
