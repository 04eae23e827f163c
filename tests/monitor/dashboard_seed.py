"""Seeds a store for the dashboard tests through the stores' public write methods.

``seed`` writes decided examples (scored, routed to domains, some rejected with reasons), dead
letters, alert transitions and a validation run, and returns what it wrote so a test can check
the page's numbers against it.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from winnow.events import DeadLetter
from winnow.example import Decision, Example, ExampleKind, SourceRef
from winnow.monitor.expectations import FailedExpectation, SuiteResult
from winnow.monitor.rules import AlertTransition, Severity
from winnow.monitor.store import MonitorStore
from winnow.reasons import DeadLetterReason, DropReason
from winnow.store import ExampleStore
from winnow.testing import examples as example_factory

DOMAINS = ("billing", "shipping", "account")
REJECT_REASONS = (DropReason.TOO_SHORT, DropReason.LOW_REWARD, DropReason.NEAR_DUPLICATE)
DLQ_REASONS = (DeadLetterReason.SCHEMA_VIOLATION, DeadLetterReason.INVALID_JSON)


@dataclass
class Seeded:
    """What ``seed`` wrote (the store may turn content duplicates into rejections: none here)."""

    curated: Counter[str] = field(default_factory=Counter)
    """Curated examples per domain."""
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Curated examples per (domain, kind)."""
    rejected: Counter[str] = field(default_factory=Counter)
    """Rejected examples per domain."""
    reject_reasons: Counter[str] = field(default_factory=Counter)
    dlq_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def total_curated(self) -> int:
        return sum(self.curated.values())

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    @property
    def total_dlq(self) -> int:
        return sum(self.dlq_reasons.values())


def make_example(
    i: int,
    *,
    tenant: str = "acme",
    domain: str | None = "billing",
    kind: ExampleKind = ExampleKind.SFT,
    reward: float = 0.8,
    relevance: float = 0.6,
    reasons: list[DropReason] | None = None,
    salt: str = "",
) -> Example:
    """A decided, scored example with unique content (``i`` and ``salt`` pick the content)."""
    preference = kind is ExampleKind.PREFERENCE
    return example_factory.make_example(
        f"Question {salt}{i}: where is my parcel?",
        f"It arrives on Friday ({salt}{i})."
        if preference
        else f"Rerouted, arrives Friday ({salt}{i}).",
        rejected="No idea." if preference else None,
        kind=kind,
        tenant=tenant,
        domain=domain,
        source=SourceRef(event_id=f"ev-{salt}{i}", event_type="winnow.support_ticket.v1"),
        language="en",
        scores={"reward": reward, "relevance": relevance, "domain_confidence": 0.9},
        decision=Decision(
            status="rejected" if reasons else "accepted", reasons=list(reasons or [])
        ),
    )


def dead_letter(i: int, reason: DeadLetterReason, *, salt: str = "") -> DeadLetter:
    """A dead letter failed now."""
    return DeadLetter(
        id=hashlib.sha256(f"dl-{salt}{i}".encode()).hexdigest(),
        reason=reason,
        error="1 validation error",
        stage="validator",
        original=b"{}",
        topic="winnow.sources.tickets",
        partition=0,
        offset=i,
        tenant="acme",
        failed_at=datetime.now(UTC),
    )


def seed(url: str, *, n: int = 60, dlq: int = 6, seed_: int = 7, salt: str = "") -> Seeded:
    """Write ``n`` examples (about a quarter rejected), ``dlq`` dead letters, alerts and a run."""
    rng = random.Random(seed_)
    out = Seeded()
    batch: list[Example] = []
    for i in range(n):
        domain = DOMAINS[i % len(DOMAINS)]
        kind = ExampleKind.PREFERENCE if i % 5 == 0 else ExampleKind.SFT
        reasons = [REJECT_REASONS[i % len(REJECT_REASONS)]] if i % 4 == 3 else None
        reward = rng.uniform(0.05, 0.35) if reasons else rng.uniform(0.55, 0.98)
        relevance = rng.uniform(-0.2, 0.5) if reasons else rng.uniform(0.2, 0.9)
        ex = make_example(
            i,
            domain=domain,
            kind=kind,
            reward=reward,
            relevance=relevance,
            reasons=reasons,
            salt=salt,
        )
        batch.append(ex)
        if reasons:
            out.rejected[domain] += 1
            out.reject_reasons.update(r.value for r in reasons)
        else:
            out.curated[domain] += 1
            out.kinds[(domain, kind.value)] += 1
    examples = ExampleStore(url)
    try:
        written = examples.write_decisions(batch)
        assert len(written.accepted) == out.total_curated, "seeded content must be unique"
        letters = [dead_letter(i, DLQ_REASONS[i % 2], salt=salt) for i in range(dlq)]
        out.dlq_reasons.update(d.reason.value for d in letters)
        examples.record_dead_letters(letters)
    finally:
        examples.close()
    return out


def seed_alerts(url: str, *, now: datetime | None = None, summary: str = "") -> None:
    """One critical alert firing, one warning resolved, and one failed validation run."""
    at = now or datetime.now(UTC)
    store = MonitorStore(url)
    try:
        store.record_transitions(
            [
                AlertTransition(
                    rule="dlq_spike",
                    severity=Severity.CRITICAL,
                    status="firing",
                    labels={},
                    value=0.42,
                    threshold=0.2,
                    started_at=at - timedelta(minutes=3),
                    ended_at=None,
                    summary=summary or "42% of records dead-lettered",
                ),
                AlertTransition(
                    rule="score_drift",
                    severity=Severity.WARNING,
                    status="resolved",
                    labels={"metric": "score:reward"},
                    value=0.05,
                    threshold=0.25,
                    started_at=at - timedelta(minutes=30),
                    ended_at=at - timedelta(minutes=12),
                    summary="score:reward PSI 0.31 against the reference window",
                ),
            ]
        )
        result = SuiteResult(
            "curated_examples", False, 120, 16, [FailedExpectation("not_null", "answer", 3)]
        )
        store.record_runs([result], at - timedelta(seconds=60), at)
    finally:
        store.close()
