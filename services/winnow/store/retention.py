"""Retention of dead letters: rows older than the retention window are deleted.

A dead letter keeps the record's original bytes (customer text, before redaction) so it can be
replayed; keeping them forever made the store the longest-lived copy of raw PII. The DLQ topic
gets the same window (``retention.ms``), so neither copy outlives the other.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, Table, func, select

from winnow.errors import WinnowError
from winnow.store.deadletters import purge_dead_letters
from winnow.store.tables import DeadLetterRow

DEAD_LETTERS: Table = DeadLetterRow.__table__  # type: ignore[attr-defined]
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNIT_S = {"d": 86_400, "h": 3_600, "m": 60}


def parse_age(text: str) -> timedelta:
    """``"30d"``, ``"12h"`` or ``"90m"`` as a duration; raises ``WinnowError`` on anything else."""
    match = _AGE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise WinnowError(f"age {text!r} is not a positive number with d, h or m (e.g. 7d, 12h)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_S[match.group(2)])


def expire_dead_letters(
    engine: Engine, older_than: timedelta, *, now: datetime | None = None, dry_run: bool = False
) -> int:
    """Delete dead letters that failed more than ``older_than`` ago; return how many (would) go."""
    cutoff = (now or datetime.now(UTC)) - older_than
    if not dry_run:
        return purge_dead_letters(engine, cutoff)
    with engine.connect() as conn:
        query = select(func.count()).where(DEAD_LETTERS.c.failed_at < cutoff)
        return int(conn.execute(query).scalar_one())
