"""Idempotence on event id: a claim table of accepted (tenant, event id) pairs.

Why a store table and not an in-memory cache: gateway replicas share it, and a restart keeps it.
A claim is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE accepted_at < cutoff RETURNING``: a
row comes back for a new id or one whose claim is older than the dedup window, and nothing for a
duplicate, decided by the database under concurrency. Claims are taken before producing and
released when the produce fails, so a client's retry is not mistaken for a duplicate. Kafka
records are keyed by event id too, and the curator's store is idempotent, so an event that slips
through (the window passed, a claim released after a partial produce) still lands once.

The table keeps the sha256 of each event id, not the id: ids are client text of up to 200
characters and may hold a NUL, which PostgreSQL text refuses (schemathesis found that 500).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, delete
from sqlalchemy.dialects import postgresql, sqlite

from winnow.store.tables import AcceptedEventRow

ACCEPTED: Table = AcceptedEventRow.__table__  # type: ignore[attr-defined]


def _digest(event_id: str) -> str:
    return hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def _insert(engine: Engine) -> Any:
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(ACCEPTED)


def claim(
    engine: Engine, tenant: str, event_ids: Sequence[str], *, window_s: float
) -> tuple[set[str], datetime]:
    """Claim the ids not accepted within the window; return those claimed and the claim time."""
    if not event_ids:
        return set(), datetime.now(UTC)
    now = datetime.now(UTC)
    cutoff = now - timedelta(seconds=window_s)
    digests = {_digest(i): i for i in event_ids}
    rows = [{"tenant": tenant, "event_id": d, "accepted_at": now} for d in digests]
    stmt = _insert(engine).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ACCEPTED.c.tenant, ACCEPTED.c.event_id],
        set_={"accepted_at": stmt.excluded.accepted_at},
        where=ACCEPTED.c.accepted_at < cutoff,
    ).returning(ACCEPTED.c.event_id)
    with engine.begin() as conn:
        claimed = {digests[r[0]] for r in conn.execute(stmt)}
    return claimed, now


def release(engine: Engine, tenant: str, event_ids: Sequence[str], claimed_at: datetime) -> None:
    """Drop this request's claims (its produce failed), leaving other requests' claims alone."""
    if not event_ids:
        return
    with engine.begin() as conn:
        conn.execute(
            delete(ACCEPTED).where(
                ACCEPTED.c.tenant == tenant,
                ACCEPTED.c.event_id.in_([_digest(i) for i in event_ids]),
                ACCEPTED.c.accepted_at == claimed_at,
            )
        )


def purge(engine: Engine, *, window_s: float) -> int:
    """Delete claims older than the window; return how many."""
    cutoff = datetime.now(UTC) - timedelta(seconds=window_s)
    with engine.begin() as conn:
        return int(conn.execute(delete(ACCEPTED).where(ACCEPTED.c.accepted_at < cutoff)).rowcount)
