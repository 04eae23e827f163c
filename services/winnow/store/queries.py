"""Read side of the store for exports and retrain triggers; every query is scoped to one tenant.

Examples come back as canonical ``Example`` objects in id order (their content hash), so the same
rows always come back in the same order. ``min_reward`` is applied here rather than in SQL: the
scores are JSON (JSONB on PostgreSQL, text on SQLite) and one Python comparison serves both.
Examples whose domain is unset are reported under :data:`UNROUTED`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.sql import Select

from winnow.events import ChatMessage
from winnow.example import Decision, Example, ExampleKind, SourceRef, TurnScore
from winnow.store.store import EXAMPLES, ExampleStore
from winnow.store.tables import SnapshotRow

SNAPSHOTS: Table = SnapshotRow.__table__  # type: ignore[attr-defined]

UNROUTED = "unrouted"
"""The domain name under which examples without a routed domain are exported and counted."""

_BATCH = 500
# What an ``Example`` is rebuilt from (not the dedup signatures or other bookkeeping blobs).
_COLUMNS = (
    "id",
    "redactions",
    "tenant",
    "kind",
    "domain",
    "provenance",
    "messages",
    "chosen",
    "rejected",
    "language",
    "csat",
    "category",
    "scores",
    "turn_scores",
    "flags",
    "model_versions",
    "source_event_id",
    "source_event_type",
    "source_topic",
    "source_partition",
    "source_offset",
    "source_fanout",
    "source_index",
    "event_time",
    "created_at",
    "stored_at",
)


@dataclass(frozen=True)
class ExampleQuery:
    """Which accepted examples to read: one tenant, optionally one domain, a time and a reward."""

    tenant: str
    domain: str | None = None
    since: datetime | None = None
    """Only examples stored (curated) at or after this moment."""
    min_reward: float | None = None
    """Only examples whose ``reward`` score is at least this; unscored examples are left out."""

    def describe(self) -> dict[str, Any]:
        """The filters as plain JSON values (for manifests)."""
        return {
            "tenant": self.tenant,
            "domain": self.domain,
            "since": _utc(self.since).isoformat() if self.since else None,
            "min_reward": self.min_reward,
        }


@dataclass(frozen=True)
class StoredExample:
    """An accepted example and when the store took it."""

    example: Example
    stored_at: datetime

    @property
    def domain(self) -> str:
        """The example's domain, :data:`UNROUTED` when none was routed."""
        return self.example.domain or UNROUTED


@dataclass(frozen=True)
class DomainCount:
    """Accepted examples of one tenant's domain, and the latest time one was stored."""

    tenant: str
    domain: str
    examples: int
    last_stored_at: datetime


def _utc(value: datetime) -> datetime:
    """Aware UTC datetimes (SQLite hands back naive ones, stored as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _domain_clause(stmt: Select[Any], domain: str) -> Select[Any]:
    if domain == UNROUTED:
        return stmt.where(EXAMPLES.c.domain.is_(None))
    return stmt.where(EXAMPLES.c.domain == domain)


def iter_examples(
    store: ExampleStore, query: ExampleQuery, *, after: datetime | None = None
) -> Iterator[StoredExample]:
    """Accepted examples matching ``query``, in id order; ``after`` keeps those stored later."""
    stmt = select(*(EXAMPLES.c[name] for name in _COLUMNS)).where(EXAMPLES.c.tenant == query.tenant)
    if query.domain is not None:
        stmt = _domain_clause(stmt, query.domain)
    if query.since is not None:
        stmt = stmt.where(EXAMPLES.c.stored_at >= _utc(query.since))
    if after is not None:
        stmt = stmt.where(EXAMPLES.c.stored_at > _utc(after))
    stmt = stmt.order_by(EXAMPLES.c.id)
    last_id: str | None = None
    while True:  # keyset pages: no long-lived cursor, stable under concurrent inserts
        page = stmt if last_id is None else stmt.where(EXAMPLES.c.id > last_id)
        with store.engine.connect() as conn:
            rows = conn.execute(page.limit(_BATCH)).mappings().all()
        for row in rows:
            reward = row["scores"].get("reward")
            if query.min_reward is not None and (reward is None or reward < query.min_reward):
                continue
            yield StoredExample(_example(row), _utc(row["stored_at"]))
        if len(rows) < _BATCH:
            return
        last_id = rows[-1]["id"]


def _example(row: Any) -> Example:
    return Example(
        id=row["id"],
        kind=ExampleKind(row["kind"]),
        tenant=row["tenant"],
        domain=row["domain"],
        messages=[ChatMessage.model_validate(m) for m in row["messages"]],
        chosen=row["chosen"],
        rejected=row["rejected"],
        provenance=row["provenance"],
        source=SourceRef(
            event_id=row["source_event_id"],
            event_type=row["source_event_type"],
            topic=row["source_topic"],
            partition=row["source_partition"],
            offset=row["source_offset"],
            fanout=row["source_fanout"],
            index=row["source_index"],
        ),
        language=row["language"],
        csat=row["csat"],
        category=row["category"],
        scores=row["scores"],
        turn_scores=[TurnScore.model_validate(t) for t in row["turn_scores"] or []],
        flags=row["flags"],
        model_versions=row["model_versions"],
        redactions=row.get("redactions") or {},
        decision=Decision(status="accepted", decided_at=_utc(row["stored_at"])),
        event_time=_utc(row["event_time"]),
        created_at=_utc(row["created_at"]),
    )


def domain_counts(store: ExampleStore, tenant: str | None = None) -> list[DomainCount]:
    """Accepted examples per (tenant, domain); all tenants only when ``tenant`` is None.

    Only the retrain trigger, which serves every tenant, passes ``None``.
    """
    stmt = select(
        EXAMPLES.c.tenant, EXAMPLES.c.domain, func.count(), func.max(EXAMPLES.c.stored_at)
    ).group_by(EXAMPLES.c.tenant, EXAMPLES.c.domain)
    if tenant is not None:
        stmt = stmt.where(EXAMPLES.c.tenant == tenant)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    counts = [DomainCount(t, d or UNROUTED, int(n), _utc(last)) for t, d, n, last in rows]
    return sorted(counts, key=lambda c: (c.tenant, c.domain))


def count_examples(store: ExampleStore, tenant: str, domain: str, *, after: datetime | None) -> int:
    """Accepted examples of one tenant's domain stored after ``after`` (all when None)."""
    stmt = _domain_clause(
        select(func.count()).select_from(EXAMPLES).where(EXAMPLES.c.tenant == tenant), domain
    )
    if after is not None:
        stmt = stmt.where(EXAMPLES.c.stored_at > _utc(after))
    with store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def record_snapshot(store: ExampleStore, row: dict[str, Any]) -> bool:
    """Store a snapshot row; False when that content hash was already recorded.

    Recording a retrain snapshot whose content was exported by hand before promotes that row to
    ``retrain`` (with its watermark), so the trigger sees it as the domain's last snapshot.
    """
    with store.engine.begin() as conn:
        stmt = store._insert(SNAPSHOTS).values(row).on_conflict_do_nothing()
        inserted = conn.execute(stmt.returning(SNAPSHOTS.c.id)).first() is not None
        if not inserted and row["purpose"] == "retrain":
            conn.execute(
                update(SNAPSHOTS)
                .where(SNAPSHOTS.c.id == row["id"], SNAPSHOTS.c.tenant == row["tenant"])
                .values(purpose="retrain", watermark=row["watermark"], path=row["path"])
            )
    return inserted


def snapshots(store: ExampleStore, tenant: str) -> list[SnapshotRow]:
    """A tenant's snapshots, newest first."""
    stmt = (
        select(SNAPSHOTS)
        .where(SNAPSHOTS.c.tenant == tenant)
        .order_by(SNAPSHOTS.c.created_at.desc(), SNAPSHOTS.c.id)
    )
    with store.engine.connect() as conn:
        return [_snapshot(r) for r in conn.execute(stmt).mappings()]


def last_retrain_snapshot(store: ExampleStore, tenant: str, domain: str) -> SnapshotRow | None:
    """The retrain snapshot of one tenant's domain with the latest watermark, if any."""
    stmt = (
        select(SNAPSHOTS)
        .where(
            SNAPSHOTS.c.tenant == tenant,
            SNAPSHOTS.c.domain == domain,
            SNAPSHOTS.c.purpose == "retrain",
        )
        .order_by(SNAPSHOTS.c.watermark.desc(), SNAPSHOTS.c.created_at.desc())
        .limit(1)
    )
    with store.engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return _snapshot(row) if row is not None else None


def _snapshot(row: Any) -> SnapshotRow:
    values = dict(row)
    values["created_at"] = _utc(values["created_at"])
    if values["watermark"] is not None:
        values["watermark"] = _utc(values["watermark"])
    return SnapshotRow(**values)
