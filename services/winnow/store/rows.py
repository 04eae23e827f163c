"""Row dicts the store writes: one builder per table, shared by every insert path and the
``winnow bench store`` ceiling (which COPYs exactly these rows)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from winnow.example import Example


def rejection_id(example: Example) -> str:
    """Key of a rejection: one per (tenant, source event, position in the event)."""
    key = f"{example.tenant}|{example.source.event_id}|{example.source.index}"
    return hashlib.sha256(key.encode()).hexdigest()


def example_row(e: Example, now: datetime, dedup_sig: bytes | None = None) -> dict[str, Any]:
    """The ``examples`` row of an accepted example (keys in column order for COPY)."""
    return {
        "id": e.id,
        "tenant": e.tenant,
        "kind": e.kind.value,
        "domain": e.domain,
        "provenance": e.provenance,
        "messages": [m.model_dump(mode="json") for m in e.messages],
        "chosen": e.chosen,
        "rejected": e.rejected,
        "language": e.language,
        "csat": e.csat,
        "category": e.category,
        "scores": e.scores,
        "turn_scores": [t.model_dump(mode="json") for t in e.turn_scores] or None,
        "flags": e.flags,
        "model_versions": e.model_versions,
        "source_event_id": e.source.event_id,
        "source_event_type": e.source.event_type,
        "source_topic": e.source.topic,
        "source_partition": e.source.partition,
        "source_offset": e.source.offset,
        "source_fanout": e.source.fanout,
        "source_index": e.source.index,
        "event_time": e.event_time,
        "created_at": e.created_at,
        "stored_at": now,
        "dedup_sig": dedup_sig,
        "redactions": e.redactions,
    }


def rejection_row(e: Example, now: datetime, rid: str | None = None) -> dict[str, Any]:
    """The ``rejections`` row of a rejected example (``rid``: its :func:`rejection_id`)."""
    return {
        "id": rid or rejection_id(e),
        "example_id": e.id,
        "tenant": e.tenant,
        "kind": e.kind.value,
        "domain": e.domain,
        "provenance": e.provenance,
        "reasons": [r.value for r in (e.decision.reasons if e.decision else [])],
        "scores": e.scores,
        "example": e.model_dump(mode="json"),
        "source_event_id": e.source.event_id,
        "source_fanout": e.source.fanout,
        "source_index": e.source.index,
        "rejected_at": now,
    }
