"""The dashboard's data: one plain ``Snapshot`` built from the store, plus the monitor's windows.

The store part (``store_snapshot``) needs no running monitor, so ``winnow report`` renders the
same page from the database alone: dataset sizes per domain and kind (all time); curated,
rejected and dead-lettered records per time bucket, reject and DLQ reasons, and score histograms
per domain (since a moment); active and recent alerts and the latest validation runs. Every
aggregate is a ``GROUP BY`` in SQL (``winnow.monitor.aggregates``); the plain values they fill
are in ``winnow.monitor.snapshot_model`` (re-exported here).

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
from datetime import UTC, datetime, timedelta
from typing import Any

from winnow.monitor.aggregates import SnapshotQueries
from winnow.monitor.rules import AlertTransition
from winnow.monitor.snapshot_model import Bucket, Snapshot, ValidationRun, as_utc
from winnow.monitor.store import MonitorStore, StoredAlert

__all__ = [
    "Bucket",
    "LiveSnapshots",
    "Snapshot",
    "SnapshotQueries",
    "ValidationRun",
    "add_live",
    "nice_bucket",
    "parse_duration",
    "parse_since",
    "store_snapshot",
    "windows_from_history",
]

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


def nice_bucket(span_s: float, target: int = TARGET_BUCKETS) -> int:
    """The shortest bucket length from ``NICE_BUCKETS_S`` cutting ``span_s`` into <= target."""
    for step in NICE_BUCKETS_S:
        if span_s / step <= target:
            return step
    return NICE_BUCKETS_S[-1]


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
        snap.conflicts = q.conflicts()
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
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
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
        return as_utc(datetime.fromisoformat(text))
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
