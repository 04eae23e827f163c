"""The monitor's tables: validation runs and alerts (``winnow alerts`` reads them)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from winnow.monitor.expectations import SuiteResult
from winnow.monitor.rules import AlertTransition
from winnow.store.store import make_engine
from winnow.store.tables import AlertRow, ValidationRunRow


@dataclass(frozen=True)
class StoredAlert:
    """An alert as ``winnow alerts`` lists it."""

    rule: str
    severity: str
    status: str
    labels: dict[str, str]
    value: float
    summary: str
    started_at: datetime
    ended_at: datetime | None


class MonitorStore:
    """Writes validation runs and alert transitions; lists alerts."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def record_runs(
        self, results: Sequence[SuiteResult], window_start: datetime, window_end: datetime
    ) -> None:
        """Insert one row per suite result (a replayed window overwrites its row)."""
        now = datetime.now(UTC)
        runs = ValidationRunRow.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            for r in results:
                key = f"{r.suite}@{window_start.isoformat()}/{window_end.isoformat()}"
                row_id = hashlib.sha256(key.encode()).hexdigest()
                conn.execute(runs.delete().where(runs.c.id == row_id))
                conn.execute(
                    runs.insert(),
                    {
                        "id": row_id,
                        "suite": r.suite,
                        "window_start": window_start,
                        "window_end": window_end,
                        "rows": r.rows,
                        "success": r.success,
                        "evaluated": r.evaluated,
                        "failed": len(r.failed),
                        "failures": [f.as_dict() for f in r.failed],
                        "duration_ms": r.duration_s * 1000,
                        "created_at": now,
                    },
                )

    def record_transitions(self, transitions: Sequence[AlertTransition]) -> None:
        """Insert fired alerts; mark resolved ones (same id) resolved."""
        now = datetime.now(UTC)
        table = AlertRow.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            for t in transitions:
                values = {
                    "fingerprint": t.fingerprint,
                    "rule": t.rule,
                    "severity": t.severity.value,
                    "status": t.status,
                    "labels": t.labels,
                    "value": t.value,
                    "threshold": t.threshold,
                    "summary": t.summary,
                    "started_at": t.started_at,
                    "ended_at": t.ended_at,
                    "updated_at": now,
                }
                updated = conn.execute(table.update().where(table.c.id == t.id).values(**values))
                if updated.rowcount == 0:
                    conn.execute(table.insert(), {"id": t.id, **values})

    def alerts(self, *, active_only: bool = False, limit: int = 50) -> list[StoredAlert]:
        """Alerts, newest first (only firing ones with ``active_only``)."""
        table = AlertRow.__table__  # type: ignore[attr-defined]
        query = select(table).order_by(table.c.started_at.desc()).limit(limit)
        if active_only:
            query = query.where(table.c.status == "firing")
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            StoredAlert(
                rule=r["rule"],
                severity=r["severity"],
                status=r["status"],
                labels=dict(r["labels"]),
                value=float(r["value"]),
                summary=r["summary"],
                started_at=r["started_at"],
                ended_at=r["ended_at"],
            )
            for r in rows
        ]

    def retrain_backlog(self) -> int | None:
        """Curated examples stored after the newest retrain snapshot's watermark (None: unknown)."""
        from sqlalchemy import func

        from winnow.store.tables import ExampleRow, SnapshotRow

        ex = ExampleRow.__table__  # type: ignore[attr-defined]
        snap = SnapshotRow.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            mark = conn.execute(select(func.max(snap.c.watermark))).scalar_one_or_none()
            query = select(func.count()).select_from(ex)
            if mark is not None:
                query = query.where(ex.c.stored_at > mark)
            return int(conn.execute(query).scalar_one())
