"""Builders of the records the monitor reads (curated / rejected examples, dead letters)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from winnow.monitor.window import WindowStats, WindowSummary

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def example_doc(
    i: int,
    *,
    answer: str = "Reset it from the sign-in page; the link is valid for an hour.",
    reward: float = 0.8,
    domain: str = "billing",
    reasons: list[str] | None = None,
    redactions: dict[str, int] | None = None,
    tenant: str = "acme",
) -> dict[str, Any]:
    """An Example JSON document as the curator writes it."""
    return {
        "id": hashlib.sha256(f"ex-{i}".encode()).hexdigest(),
        "kind": "sft",
        "tenant": tenant,
        "domain": domain,
        "messages": [
            {"role": "user", "content": "How do I reset my password?"},
            {"role": "assistant", "content": answer},
        ],
        "provenance": "human_agent",
        "source": {
            "event_id": f"e-{i}",
            "event_type": "winnow.support_ticket.v1",
            "topic": "winnow.sources.tickets",
        },
        "language": "en",
        "scores": {"reward": reward, "relevance": 0.5, "domain_confidence": 0.9},
        "redactions": redactions or {},
        "decision": {"status": "rejected" if reasons else "accepted", "reasons": reasons or []},
        "event_time": T0.isoformat(),
    }


def dead_letter_doc(i: int, reason: str = "schema_violation") -> dict[str, Any]:
    """A DeadLetter JSON document from the validator."""
    return {
        "id": f"dl-{i}",
        "reason": reason,
        "error": "1 errors",
        "stage": "validator",
        "original": "",
        "topic": "winnow.sources.feedback",
        "tenant": "acme",
        "failed_at": T0.isoformat(),
    }


def window(
    *,
    good: int = 0,
    rejected: int = 0,
    reason: str = "empty_answer",
    dlq: int = 0,
    pii: int = 0,
    reward: float = 0.8,
    start: datetime = T0,
    seconds: float = 60,
) -> WindowSummary:
    """A closed window holding the given numbers of each kind of record."""
    from datetime import timedelta

    stats = WindowStats(start)
    at = start + timedelta(seconds=seconds / 2)
    for i in range(good):
        doc = example_doc(i, reward=reward)
        stats.add("curated", json.dumps(doc).encode(), at=at)
    for i in range(rejected):
        doc = example_doc(10_000 + i, answer="", reasons=[reason])
        stats.add("rejected", json.dumps(doc).encode(), at=at)
    for i in range(pii):
        doc = example_doc(20_000 + i, redactions={"email": 2, "phone": 1})
        stats.add("curated", json.dumps(doc).encode(), at=at)
    for i in range(dlq):
        stats.add("dlq", json.dumps(dead_letter_doc(i)).encode(), at=at)
    return stats.close(start + timedelta(seconds=seconds))
