"""The dashboard's data: one plain ``Snapshot`` built from the store, plus the monitor's windows.

The store part (``store_snapshot``) needs no running monitor, so ``winnow report`` renders the
same page from the database alone: dataset sizes per domain and kind (all time); curated,
rejected and dead-lettered records per time bucket, reject and DLQ reasons, and score histograms
per domain (since a moment); active and recent alerts and the latest validation runs. Every
aggregate is a ``GROUP BY`` in SQL, written once for PostgreSQL and SQLite (JSON scores are
read with SQLAlchemy's JSON operators, which compile to ``->>`` and ``JSON_EXTRACT``).

The live monitor adds its in-memory window history and the alerts its engine holds
(``add_live``); when the store cannot be read, the windows stand in for it and the error is
kept for the page's banner instead of failing the page.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Engine, case, cast, func, select
from sqlalchemy.sql import Select

from winnow.monitor.rules import AlertTransition
from winnow.monitor.store import MonitorStore, StoredAlert
from winnow.monitor.window import SCORE_EDGES
from winnow.store.queries import UNROUTED
from winnow.store.store import DEAD_LETTERS, EXAMPLES, REJECTIONS
from winnow.store.tables import ValidationRunRow

AnySelect = Select[*tuple[Any, ...]]

NICE_BUCKETS_S: tuple[int, ...] = (
    *(1, 2, 5, 10, 15, 30),
    *(60, 120, 300, 600, 900, 1800),
    *(3600, 7200, 10800, 21600, 43200),
    *(86400, 7 * 86400, 30 * 86400),
)
"""Bucket lengths a timeline may use (seconds): whole clock units, so labels read well."""
TARGET_BUCKETS = 48
"""About how many buckets an automatic bucket length aims for."""
MAX_BUCKETS = 1000
"""A requested bucket length giving more buckets than this is widened (the page stays small)."""


@dataclass(frozen=True)
class Bucket:
    """Records that ended curated, rejected or dead-lettered in one time bucket or window."""

    start: datetime
    seconds: float
    curated: int = 0
    rejected: int = 0
    dlq: int = 0

    @property
    def records(self) -> int:
        return self.curated + self.rejected + self.dlq

    @property
    def accept_rate(self) -> float | None:
        """Curated share of the bucket's examples (dead letters never became examples)."""
        examples = self.curated + self.rejected
        return self.curated / examples if examples else None


@dataclass(frozen=True)
class ValidationRun:
    """One expectation-suite run on one monitor window."""

    suite: str
    window_end: datetime
    rows: int
    evaluated: int
    failed: int
    success: bool


@dataclass
class Snapshot:
    """Everything the dashboard draws, as plain data (``as_dict`` gives its JSON)."""

    generated_at: datetime
    since: datetime | None
    bucket_s: int = 60
    timeline: list[Bucket] = field(default_factory=list)
    """Store records per bucket since ``since`` (gaps filled with empty buckets)."""
    windows: list[Bucket] = field(default_factory=list)
    """The live monitor's recent windows, oldest first (empty in a static report)."""
    window_s: float | None = None
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    """Dataset size: domain -> example kind -> curated examples stored (all time)."""
    reject_reasons: dict[str, int] = field(default_factory=dict)
    dlq_reasons: dict[str, int] = field(default_factory=dict)
    score_hist: dict[str, dict[str, dict[str, list[int]]]] = field(default_factory=dict)
    """score -> domain -> outcome (``curated``, ``rejected``; ``seen`` from windows) -> bins."""
    active_alerts: list[StoredAlert] = field(default_factory=list)
    recent_alerts: list[StoredAlert] = field(default_factory=list)
    runs: list[ValidationRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """What could not be read (shown as a banner, never raised)."""
    live: bool = False
    sources: list[str] = field(default_factory=list)
    """Where the numbers came from: ``store``, ``monitor windows``."""

    @property
    def _counted(self) -> list[Bucket]:
        # The store's numbers when it could be read; the monitor's windows only stand in.
        return self.timeline if "store" in self.sources else self.windows

    @property
    def curated(self) -> int:
        return sum(b.curated for b in self._counted)

    @property
    def rejected(self) -> int:
        return sum(b.rejected for b in self._counted)

    @property
    def dlq(self) -> int:
        return sum(b.dlq for b in self._counted)

    @property
    def accept_rate(self) -> float | None:
        examples = self.curated + self.rejected
        return self.curated / examples if examples else None

    @property
    def dataset_size(self) -> int:
        return sum(n for kinds in self.sizes.values() for n in kinds.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (datetimes as ISO strings), with the derived totals."""
        doc: dict[str, Any] = _jsonable(asdict(self))
        doc.update(
            curated=self.curated,
            rejected=self.rejected,
            dlq=self.dlq,
            accept_rate=self.accept_rate,
            dataset_size=self.dataset_size,
        )
        return doc


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def nice_bucket(span_s: float, target: int = TARGET_BUCKETS) -> int:
    """The shortest bucket length from ``NICE_BUCKETS_S`` cutting ``span_s`` into <= target."""
    for step in NICE_BUCKETS_S:
        if span_s / step <= target:
            return step
    return NICE_BUCKETS_S[-1]


def _utc(at: datetime) -> datetime:
    # SQLite gives naive datetimes back; every timestamp Winnow writes is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


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
                    lows.append(_utc(low))
                    highs.append(_utc(high))
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
                    window_end=_utc(r.window_end),
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


def store_snapshot(
    store: MonitorStore,
    *,
    since: datetime | None,
    bucket_s: int | None = None,
    now: datetime | None = None,
    recent_alerts: int = 20,
    runs: int = 10,
) -> Snapshot:
    """The dashboard's data from the store alone; read errors land in ``errors``, not raised.

    ``bucket_s`` None picks a bucket length for about ``TARGET_BUCKETS`` buckets over the
    records found; a length giving more than ``MAX_BUCKETS`` buckets is widened.
    """
    snap = Snapshot(generated_at=now or datetime.now(UTC), since=since)
    q = SnapshotQueries(store.engine)
    try:
        span = q.span(since)
        seconds = (span[1] - span[0]).total_seconds() if span else 0.0
        auto = nice_bucket(seconds)
        snap.bucket_s = (
            auto if bucket_s is None else max(bucket_s, nice_bucket(seconds, MAX_BUCKETS))
        )
        snap.timeline = q.timeline(since, snap.bucket_s) if span else []
        snap.sizes = q.sizes()
        snap.reject_reasons = q.reject_reasons(since)
        snap.dlq_reasons = q.dlq_reasons(since)
        snap.score_hist = q.score_hist(since)
        snap.active_alerts = store.alerts(active_only=True, limit=100)
        snap.recent_alerts = store.alerts(limit=recent_alerts)
        snap.runs = q.runs(runs)
        snap.sources.append("store")
    except Exception as exc:
        # A page that says "store unavailable" beats a 500: the live windows may still draw.
        snap.errors.append(
            f"The store could not be read ({type(exc).__name__}): {_first_line(exc)}"
        )
    return snap


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, str):
        try:
            return _utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def windows_from_history(history: Iterable[Mapping[str, Any]]) -> list[Bucket]:
    """The monitor's window summaries (``WindowSummary.as_dict``) as buckets, oldest first."""
    out: list[Bucket] = []
    for w in history:
        start, end = _parse_time(w.get("start")), _parse_time(w.get("end"))
        if start is None or end is None:
            continue
        out.append(
            Bucket(
                start=start,
                seconds=max(0.0, (end - start).total_seconds()),
                curated=int(w.get("curated") or 0),
                rejected=int(w.get("rejected") or 0),
                dlq=int(w.get("dlq") or 0),
            )
        )
    return sorted(out, key=lambda b: b.start)


def _stored(t: AlertTransition) -> StoredAlert:
    return StoredAlert(
        rule=t.rule,
        severity=t.severity.value,
        status=t.status,
        labels=dict(t.labels),
        value=t.value,
        summary=t.summary,
        started_at=t.started_at,
        ended_at=t.ended_at,
    )


def add_live(
    snap: Snapshot,
    history: Sequence[Mapping[str, Any]],
    active: Sequence[AlertTransition] | None,
    *,
    window_s: float | None = None,
) -> Snapshot:
    """Add the running monitor's windows and active alerts to a store snapshot (in place).

    The engine's active alerts replace the store's (the store may lag by a window or be down).
    Without the store, the windows' reasons and score histograms stand in for the store's.
    """
    snap.live = True
    snap.window_s = window_s
    snap.windows = windows_from_history(history)
    if snap.windows:
        snap.sources.append("monitor windows")
    if active is not None:
        snap.active_alerts = sorted(
            (_stored(t) for t in active), key=lambda a: a.started_at, reverse=True
        )
    if "store" not in snap.sources:
        reject: Counter[str] = Counter()
        dlq: Counter[str] = Counter()
        hist: dict[str, dict[str, dict[str, list[int]]]] = {}
        for w in history:
            reject.update(w.get("reject_reasons") or {})
            dlq.update(w.get("dlq_reasons") or {})
            for name, per_domain in (w.get("score_hist") or {}).items():
                for domain, counts in per_domain.items():
                    if domain == "*":
                        continue
                    seen = hist.setdefault(name, {}).setdefault(domain, {})
                    total = seen.setdefault("seen", [0] * len(counts))
                    for i, n in enumerate(counts[: len(total)]):
                        total[i] += int(n)
        snap.reject_reasons = dict(reject.most_common())
        snap.dlq_reasons = dict(dlq.most_common())
        snap.score_hist = hist
    return snap


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: str) -> float | None:
    """Seconds of ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` or a plain number of seconds."""
    text = value.strip().lower()
    unit = _UNITS.get(text[-1:], 0)
    try:
        amount = float(text[:-1] if unit else text)
    except ValueError:
        return None
    seconds = amount * (unit or 1)
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def parse_since(value: str, now: datetime | None = None) -> datetime | None:
    """``24h``, ``30m``, ``7d`` ago, an ISO timestamp, or ``all`` (None: no limit)."""
    text = value.strip()
    if text.lower() in {"all", ""}:
        return None
    seconds = parse_duration(text)
    if seconds is not None:
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(
            f"{value!r} is neither a duration (30m, 24h, 7d), an ISO timestamp nor 'all'"
        ) from None


class LiveSnapshots:
    """The running monitor's snapshots: store plus windows, built in a thread, briefly cached.

    The cache keeps several open dashboards from running the store's queries once each per
    refresh. It lives ``max_age_s``, or twice as long as the last build took if that is longer,
    so a large store is never queried back to back.
    """

    def __init__(
        self,
        store: MonitorStore,
        history: Callable[[], Sequence[Mapping[str, Any]]],
        active: Callable[[], Sequence[AlertTransition]],
        *,
        lookback_s: float,
        window_s: float,
        max_age_s: float,
    ) -> None:
        self.store = store
        self.history = history
        self.active = active
        self.lookback_s = lookback_s
        self.window_s = window_s
        self.max_age_s = max_age_s
        self._cached: tuple[float, Snapshot] | None = None
        self._max_age = max_age_s
        self._lock = asyncio.Lock()

    def build(
        self, history: Sequence[Mapping[str, Any]], active: Sequence[AlertTransition]
    ) -> Snapshot:
        """A fresh snapshot (blocking: the store's queries)."""
        now = datetime.now(UTC)
        snap = store_snapshot(self.store, since=now - timedelta(seconds=self.lookback_s), now=now)
        return add_live(snap, history, active, window_s=self.window_s)

    async def get(self) -> Snapshot:
        """The cached snapshot, rebuilt in a worker thread once older than ``max_age_s``."""
        async with self._lock:
            at = time.monotonic()
            if self._cached is None or at - self._cached[0] >= self._max_age:
                # Copied on the event loop: the window history is appended to by the monitor.
                history, active = list(self.history()), list(self.active())
                snap = await asyncio.to_thread(self.build, history, active)
                self._cached = (at, snap)
                self._max_age = max(self.max_age_s, 2 * (time.monotonic() - at))
            return self._cached[1]
