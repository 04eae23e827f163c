"""The dashboard's data as plain values: time buckets, validation runs and the ``Snapshot``.

``winnow.monitor.aggregates`` fills them from the store's SQL aggregates,
``winnow.monitor.snapshot`` assembles them (store plus the live monitor's windows), and
``winnow.monitor.dashboard`` draws them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from winnow.monitor.store import StoredAlert


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC; naive datetimes are taken as UTC already."""
    # SQLite gives naive datetimes back; every timestamp Winnow writes is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


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
    conflicts: dict[str, int] = field(default_factory=dict)
    """Feedback conflicts in each tenant's latest snapshot, summed (``label_conflicts``,
    ``unresolved``, ``correction_conflicts``)."""
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
