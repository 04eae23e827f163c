"""Reading and expiring stored dead letters (``winnow dlq``, the curator's retention timer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select

from winnow.store.tables import DeadLetterRow

DEAD_LETTERS = DeadLetterRow.__table__  # type: ignore[attr-defined]


def list_dead_letters(
    engine: Engine, *, limit: int = 20, letter_id: str | None = None, tenant: str | None = None
) -> list[dict[str, Any]]:
    """Newest dead letters first (one by id when ``letter_id`` is given), original included."""
    query = select(DEAD_LETTERS).order_by(DEAD_LETTERS.c.failed_at.desc()).limit(limit)
    if letter_id is not None:
        query = query.where(DEAD_LETTERS.c.id == letter_id)
    if tenant is not None:
        query = query.where(DEAD_LETTERS.c.tenant == tenant)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def purge_dead_letters(engine: Engine, before: datetime) -> int:
    """Delete dead letters that failed before ``before``; the number deleted."""
    with engine.begin() as conn:
        result = conn.execute(delete(DEAD_LETTERS).where(DEAD_LETTERS.c.failed_at < before))
    return int(result.rowcount or 0)
