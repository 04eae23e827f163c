"""Seeding helpers for export tests: accepted examples built directly, and a mixed corpus."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from winnow.example import Decision, Example, ExampleKind
from winnow.store import ExampleStore
from winnow.testing import examples as example_factory


def make_example(
    question: str,
    answer: str,
    *,
    tenant: str = "acme",
    domain: str | None = "billing",
    kind: ExampleKind = ExampleKind.SFT,
    rejected: str | None = None,
    reward: float | None = 0.8,
    system: str | None = None,
) -> Example:
    """An accepted example; preferences take ``answer`` as chosen and need ``rejected``."""
    scores = {"relevance": 0.5} | ({"reward": reward} if reward is not None else {})
    return example_factory.make_example(
        question,
        answer,
        rejected=rejected,
        kind=kind,
        tenant=tenant,
        system=system,
        domain=domain,
        scores=scores,
        model_versions={"reward": "reward-v1", "router": "router-v1"},
        decision=Decision(status="accepted"),
        event_time=datetime(2026, 11, 1, 12, tzinfo=UTC),
    )


def seed(store: ExampleStore, examples: list[Example]) -> None:
    """Write accepted examples and check that every one was stored."""
    out = store.write_decisions(examples)
    assert len(out.accepted) == len(examples)


def jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def corpus() -> list[Example]:
    """A small mixed corpus: two domains, one unrouted, every kind, two tenants."""
    return [
        make_example("How do I update my card?", "Open Billing, then Payment methods, then Edit."),
        make_example(
            "Why was I charged twice?",
            "The second charge is a pending authorisation; it drops off within 3 days.",
            system="You are a helpful billing assistant.",
            reward=0.4,
        ),
        make_example(
            "Can I get a refund?",
            "Yes: refunds for annual plans are prorated, request one from the invoice page.",
            kind=ExampleKind.PREFERENCE,
            rejected="No.",
        ),
        make_example(
            "Cancel my plan", "Whatever, figure it out yourself.", kind=ExampleKind.NEGATIVE
        ),
        make_example(
            "Where is my parcel?",
            "It was rerouted to the new address and arrives on Friday morning.",
            domain="shipping",
            reward=0.9,
        ),
        make_example(
            "Hello?", "Hi! How can I help you today with your account?", domain=None, reward=None
        ),
        make_example(
            "How do I update my card?",
            "Other tenant: go to Settings, Billing, and replace the card there.",
            tenant="globex",
        ),
    ]
