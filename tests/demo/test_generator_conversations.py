"""The demo generator's tickets are conversations, as real ones are, with some single exchanges."""

from __future__ import annotations

import json
from collections import Counter

from winnow.demo.generator import EventGenerator
from winnow.events import SOURCE_EVENT_ADAPTER, Role
from winnow.stages.decode import Coordinates
from winnow.stages.normalise import event_to_examples
from winnow.stages.ticket import TurnKind, classify_turn


def _tickets(n: int = 400) -> list[dict]:  # type: ignore[type-arg]
    docs = [json.loads(r.value) for r in EventGenerator(seed=5).records(n)]
    return [d for d in docs if d["type"] == "winnow.support_ticket.v1"]


def test_mix_of_conversations_and_single_exchanges() -> None:
    """Most tickets run 8-30 turns; the old 3-4 turn shape stays a minority of the mix."""
    lengths = [len(d["data"]["turns"]) for d in _tickets()]
    long = [n for n in lengths if n >= 5]
    assert 0.55 < len(long) / len(lengths) < 0.85
    assert max(lengths) <= 30 and min(long) >= 8


def test_conversations_hold_what_real_tickets_hold() -> None:
    """Identity checks, small talk at both ends, transfers, in every domain."""
    kinds: Counter[TurnKind] = Counter()
    domains: set[str] = set()
    for d in _tickets():
        turns = d["data"]["turns"]
        if len(turns) < 5:
            continue
        domains.add(d["data"]["category"])
        for t in turns:
            role = Role.USER if t["speaker"] == "customer" else Role.ASSISTANT
            kinds[classify_turn(t["text"], role)] += 1
        assert classify_turn(turns[-1]["text"], Role.ASSISTANT) is not TurnKind.SUBSTANCE or (
            "survey" in turns[-1]["text"]
        )
    assert domains == {"billing", "shipping", "account", "refunds", "technical"}
    for kind in (TurnKind.GREETING, TurnKind.CLOSING, TurnKind.IDENTITY, TurnKind.TRANSFER):
        assert kinds[kind] > 10, kind


def test_generated_conversations_train_only_on_substance() -> None:
    """Normalised, a generated conversation's goodbyes and identity checks weigh 0."""
    for d in _tickets(60):
        if len(d["data"]["turns"]) < 5:
            continue
        [ex] = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(d), Coordinates())
        trained = [m.content for m in ex.messages if m.weight == 1]
        assert trained and not any("Goodbye" in t or "date of birth" in t for t in trained)
