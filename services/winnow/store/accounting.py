"""Where source events ended up, per source and tenant: curated, rejected or dead-lettered.

An event counts once: curated when any of its examples was accepted, rejected when all of its
examples were, pending while fewer outcomes than its fan-out are stored (the store's tally rule).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from winnow.store.store import DEAD_LETTERS, EXAMPLES, REJECTIONS
from winnow.topics import SOURCE_FOR_TYPE

UNKNOWN = "-"
"""Source or tenant of a dead letter whose record could not be read that far."""

IMPORTED = "import"
"""Source of a dead letter written by ``winnow ingest --from`` for a record it could not convert:
it went straight to the DLQ, so no source topic counts it as produced."""


@dataclass
class Accounted:
    """Outcomes of the source events of one (source, tenant)."""

    curated: int = 0
    rejected: int = 0
    dead_lettered: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        """Events with a final outcome (pending ones excluded)."""
        return self.curated + self.rejected + self.dead_lettered


def source_of_topic(topic: str | None, prefix: str) -> str:
    """``tickets`` for ``<prefix>.sources.tickets``; ``import`` for a helpdesk import's
    ``<helpdesk>:<file>`` coordinates; ``-`` for any other topic."""
    head = f"{prefix}.sources."
    if topic and topic.startswith(head):
        return topic[len(head) :]
    if topic and ":" in topic and not topic.startswith(prefix):
        return IMPORTED
    return UNKNOWN


def _event_type(example: dict[str, Any]) -> str:
    source = example.get("source") or {}
    return str(source.get("event_type", ""))


def account(
    engine: Engine, since: datetime | None, topic_prefix: str
) -> dict[tuple[str, str], Accounted]:
    """Outcomes since ``since`` (everything when None), keyed by (source name, tenant)."""
    ex_q = select(
        EXAMPLES.c.tenant,
        EXAMPLES.c.source_event_id,
        EXAMPLES.c.source_fanout,
        EXAMPLES.c.source_event_type,
    )
    rej_q = select(
        REJECTIONS.c.tenant,
        REJECTIONS.c.source_event_id,
        REJECTIONS.c.source_fanout,
        REJECTIONS.c.example,
    )
    dlq_q = select(DEAD_LETTERS.c.topic, DEAD_LETTERS.c.tenant, DEAD_LETTERS.c.stage)
    if since is not None:
        ex_q = ex_q.where(EXAMPLES.c.stored_at >= since)
        rej_q = rej_q.where(REJECTIONS.c.rejected_at >= since)
        dlq_q = dlq_q.where(DEAD_LETTERS.c.failed_at >= since)
    # (tenant, event id) -> [fan-out, outcomes seen, accepted, source name]
    events: dict[tuple[str, str], list[Any]] = {}
    out: dict[tuple[str, str], Accounted] = defaultdict(Accounted)
    with engine.connect() as conn:
        for tenant, event_id, fanout, event_type in conn.execute(ex_q):
            entry = events.setdefault((tenant, event_id), [fanout, 0, 0, ""])
            entry[1] += 1
            entry[2] += 1
            entry[3] = SOURCE_FOR_TYPE.get(event_type, UNKNOWN)
        for tenant, event_id, fanout, example in conn.execute(rej_q):
            entry = events.setdefault((tenant, event_id), [fanout, 0, 0, ""])
            entry[1] += 1
            entry[3] = entry[3] or SOURCE_FOR_TYPE.get(_event_type(example), UNKNOWN)
        for topic, tenant, stage in conn.execute(dlq_q):
            # Only the validator reads source topics; a later stage's dead letter is one example
            # of an event whose other outcomes may be stored, so it counts once, as dead-lettered.
            source = source_of_topic(topic, topic_prefix) if stage == "validator" else UNKNOWN
            out[(source, tenant or UNKNOWN)].dead_lettered += 1
    for (tenant, _), (fanout, seen, accepted, source) in events.items():
        counts = out[(source or UNKNOWN, tenant)]
        if seen < fanout:
            counts.pending += 1
        elif accepted:
            counts.curated += 1
        else:
            counts.rejected += 1
    return dict(out)
