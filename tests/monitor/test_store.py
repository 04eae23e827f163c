"""Validation runs and alerts in the store (migrated SQLite), as ``winnow alerts`` lists them."""

from __future__ import annotations

from datetime import timedelta

from tests.monitor.helpers import T0
from typer.testing import CliRunner

from winnow.monitor.expectations import FailedExpectation, SuiteResult
from winnow.monitor.rules import AlertTransition, Severity
from winnow.monitor.store import MonitorStore
from winnow.store.migrate import upgrade


def _transition(status: str) -> AlertTransition:
    return AlertTransition(
        rule="dlq_spike",
        severity=Severity.CRITICAL,
        status=status,  # type: ignore[arg-type]
        labels={},
        value=0.5,
        threshold=0.2,
        started_at=T0,
        ended_at=T0 + timedelta(minutes=2) if status == "resolved" else None,
        summary="50% dead-lettered",
    )


def test_alert_fires_then_resolves_in_one_row(sqlite_url: str) -> None:
    """Firing inserts a row; resolving updates the same row; --active lists only firing ones."""
    upgrade(sqlite_url)
    store = MonitorStore(sqlite_url)
    store.record_transitions([_transition("firing")])
    assert [a.status for a in store.alerts(active_only=True)] == ["firing"]
    store.record_transitions([_transition("resolved")])
    alerts = store.alerts()
    assert [(a.rule, a.status) for a in alerts] == [("dlq_spike", "resolved")]
    assert alerts[0].ended_at is not None
    assert store.alerts(active_only=True) == []
    store.close()


def test_validation_runs_are_idempotent(sqlite_url: str) -> None:
    """Re-recording one window's run replaces its row."""
    from sqlalchemy import func, select

    from winnow.store.tables import ValidationRunRow

    upgrade(sqlite_url)
    store = MonitorStore(sqlite_url)
    result = SuiteResult("curated_examples", False, 10, 16, [FailedExpectation("x", "id", 2)])
    for _ in range(2):
        store.record_runs([result], T0, T0 + timedelta(seconds=60))
    with store.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(ValidationRunRow)).scalar_one()
        failures = conn.execute(select(ValidationRunRow.failures)).scalar_one()  # type: ignore[call-overload]
    assert count == 1 and failures[0]["unexpected_count"] == 2
    assert store.retrain_backlog() == 0
    store.close()


def test_alerts_command_lists(sqlite_url: str, monkeypatch: object) -> None:
    """``winnow alerts --json`` prints one JSON line per alert."""
    import json

    import typer

    from winnow.monitor.cli import alerts
    from winnow.settings import get_settings

    upgrade(sqlite_url)
    MonitorStore(sqlite_url).record_transitions([_transition("firing")])
    monkeypatch.setenv("WINNOW_DATABASE_URL", sqlite_url)  # type: ignore[attr-defined]
    get_settings.cache_clear()
    app = typer.Typer()
    app.command()(alerts)
    try:
        out = CliRunner().invoke(app, ["--json"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert json.loads(out.output.splitlines()[0])["rule"] == "dlq_spike"
