"""The store's aggregates for the dashboard: every number is a ``GROUP BY`` in SQL.

Written once for PostgreSQL and SQLite (JSON scores are read with SQLAlchemy's JSON operators,
which compile to ``->>`` and ``JSON_EXTRACT``); ``winnow.monitor.snapshot`` assembles the
results into a ``Snapshot``.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Engine, case, cast, func, select
from sqlalchemy.sql import Select

from winnow.monitor.snapshot_model import Bucket, ValidationRun, as_utc
from winnow.monitor.window import SCORE_EDGES
from winnow.store.queries import SNAPSHOTS, UNROUTED
from winnow.store.store import DEAD_LETTERS, EXAMPLES, REJECTIONS
from winnow.store.tables import ValidationRunRow

AnySelect = Select[*tuple[Any, ...]]


def _epoch_s(col: ColumnElement[Any], dialect: str) -> ColumnElement[int]:
    """Whole seconds since 1970 of a timestamp column, in the dialect's words."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", col)), BigInteger)
    return cast(func.strftime("%s", col), BigInteger)


def _bin(value: ColumnElement[float], edges: tuple[float, ...]) -> ColumnElement[int]:
    """SQL of ``window.bin_index``: the same fixed bins the monitor's windows use."""
    last = len(edges) - 2
    return case(*[(value < edges[i + 1], i) for i in range(last)], else_=last)


# (table, time column, outcome) of each record the timeline counts.
_OUTCOMES = (
    (EXAMPLES, EXAMPLES.c.stored_at, "curated"),
    (REJECTIONS, REJECTIONS.c.rejected_at, "rejected"),
    (DEAD_LETTERS, DEAD_LETTERS.c.failed_at, "dlq"),
)


class SnapshotQueries:
    """The store's aggregates for the dashboard; every method is one or a few GROUP BYs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def sizes(self) -> dict[str, dict[str, int]]:
        """Curated examples stored per domain and kind (unrouted ones under ``unrouted``)."""
        domain = func.coalesce(EXAMPLES.c.domain, UNROUTED).label("domain")
        query = _grouped(select(domain, EXAMPLES.c.kind.label("kind")))
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for d, kind, n in conn.execute(query):
                out.setdefault(str(d), {})[str(kind)] = int(n)
        return out

    def conflicts(self) -> dict[str, int]:
        """Feedback conflicts of each tenant's latest export or retrain snapshot, summed.

        Conflict resolution covers a tenant's whole store, so its newest manifest holds the
        current counts; a snapshot written before conflicts were counted adds nothing.
        """
        keys = ("label_conflicts", "unresolved", "correction_conflicts")
        out = dict.fromkeys(keys, 0)
        seen: set[str] = set()
        query = select(SNAPSHOTS.c.tenant, SNAPSHOTS.c.manifest).order_by(
            SNAPSHOTS.c.created_at.desc()
        )
        with self.engine.connect() as conn:
            for tenant, manifest in conn.execute(query):
                if tenant in seen:
                    continue
                seen.add(tenant)
                found = manifest.get("conflicts", {})
                for key in keys:
                    out[key] += int(found.get(key, 0))
        return out

    def span(self, since: datetime | None) -> tuple[datetime, datetime] | None:
        """First and last record time since ``since`` over the three tables (None: no record)."""
        lows: list[datetime] = []
        highs: list[datetime] = []
        with self.engine.connect() as conn:
            for _table, col, _outcome in _OUTCOMES:
                query = select(func.min(col), func.max(col))
                if since is not None:
                    query = query.where(col >= since)
                low, high = conn.execute(query).one()
                if low is not None and high is not None:
                    lows.append(as_utc(low))
                    highs.append(as_utc(high))
        return (min(lows), max(highs)) if lows else None

    def timeline(self, since: datetime | None, bucket_s: int) -> list[Bucket]:
        """Records per bucket between the first and the last one since ``since``, gaps included."""
        counts: dict[int, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for _table, col, outcome in _OUTCOMES:
                inner = select((_epoch_s(col, self.dialect) // bucket_s).label("bucket"))
                if since is not None:
                    inner = inner.where(col >= since)
                for bucket, n in conn.execute(_grouped(inner)):
                    counts.setdefault(int(bucket), {})[outcome] = int(n)
        if not counts:
            return []
        first, last = min(counts), max(counts)
        return [
            Bucket(
                start=datetime.fromtimestamp(b * bucket_s, UTC),
                seconds=bucket_s,
                **counts.get(b, {}),
            )
            for b in range(first, last + 1)
        ]

    def reject_reasons(self, since: datetime | None) -> dict[str, int]:
        """Rejected examples per reason (an example with two reasons counts for each)."""
        # Grouped by the whole reason list, expanded here: portable across JSON and JSONB, and
        # the number of distinct reason combinations is small whatever the table's size.
        inner = select(REJECTIONS.c.reasons.label("reasons"))
        if since is not None:
            inner = inner.where(REJECTIONS.c.rejected_at >= since)
        out: Counter[str] = Counter()
        with self.engine.connect() as conn:
            for reasons, n in conn.execute(_grouped(inner)):
                for reason in reasons or ["unknown"]:
                    out[str(reason)] += int(n)
        return dict(out.most_common())

    def dlq_reasons(self, since: datetime | None) -> dict[str, int]:
        """Dead letters per reason."""
        inner = select(DEAD_LETTERS.c.reason.label("reason"))
        if since is not None:
            inner = inner.where(DEAD_LETTERS.c.failed_at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(_grouped(inner)).all()
        return {str(r): int(n) for r, n in sorted(rows, key=lambda row: -int(row[1]))}

    def score_hist(self, since: datetime | None) -> dict[str, dict[str, dict[str, list[int]]]]:
        """Histograms of each model score per domain, curated and rejected apart."""
        out: dict[str, dict[str, dict[str, list[int]]]] = {}
        tables = (
            (EXAMPLES, EXAMPLES.c.stored_at, "curated"),
            (REJECTIONS, REJECTIONS.c.rejected_at, "rejected"),
        )
        with self.engine.connect() as conn:
            for name, edges in SCORE_EDGES.items():
                for table, col, outcome in tables:
                    value = table.c.scores[name].as_float()
                    inner = select(
                        func.coalesce(table.c.domain, UNROUTED).label("domain"),
                        _bin(value, edges).label("bin"),
                    ).where(value.is_not(None))
                    if since is not None:
                        inner = inner.where(col >= since)
                    for domain, b, n in conn.execute(_grouped(inner)):
                        per_outcome = out.setdefault(name, {}).setdefault(str(domain), {})
                        hist = per_outcome.setdefault(outcome, [0] * (len(edges) - 1))
                        hist[int(b)] += int(n)
        return out

    def runs(self, limit: int = 10) -> list[ValidationRun]:
        """The latest validation runs, newest first."""
        t = ValidationRunRow.__table__  # type: ignore[attr-defined]
        query = (
            select(t.c.suite, t.c.window_end, t.c.rows, t.c.evaluated, t.c.failed, t.c.success)
            .order_by(t.c.window_end.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                ValidationRun(
                    suite=r.suite,
                    window_end=as_utc(r.window_end),
                    rows=int(r.rows),
                    evaluated=int(r.evaluated),
                    failed=int(r.failed),
                    success=bool(r.success),
                )
                for r in conn.execute(query)
            ]


def _grouped(inner: AnySelect) -> AnySelect:
    """``SELECT <inner's columns>, count(*) ... GROUP BY`` them, over ``inner`` as a subquery.

    Grouping on the subquery's plain columns avoids repeating bound parameters in GROUP BY,
    which PostgreSQL would not match against the same expression in the select list.
    """
    sub = inner.subquery()
    cols = list(sub.c)
    return select(*cols, func.count()).group_by(*cols)
