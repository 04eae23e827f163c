"""Contradicting feedback on one prompt and response: one label per pair, in every arrival order.

The four events of issue #18: a thumbs-up, a thumbs-down, a thumbs-down with a good correction and
a thumbs-down with a deflecting correction, on one prompt and one response. They go through the
real normaliser, the real duplicate index (verifying against the store) and the store, one event
at a time in each of the 24 arrival orders, and are exported as KTO and DPO under each policy.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from winnow.dedup.index import NearDuplicateIndex
from winnow.events import (
    ChatFeedback,
    ChatFeedbackEvent,
    ChatMessage,
    FeedbackGiver,
    Rating,
    Role,
    Thumb,
)
from winnow.export.conflicts import ConflictPolicy
from winnow.export.exporter import export_snapshot
from winnow.export.formats import ExportFormat
from winnow.export.tokens import CharTokenCounter
from winnow.stages.curate import curate_batch
from winnow.stages.decode import Coordinates
from winnow.stages.normalise import event_to_examples
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.store.store import REJECTIONS

from .seedlib import jsonl

PROMPT = "How do I change the email address on my account? I moved to a new provider."
RESPONSE = "Go to Settings, then Profile, and edit the email field; we send a confirmation link."
GOOD = "Open Settings > Profile > Email, type the new address, then click the confirmation link."
DEFLECT = "I cannot help with that here. Please contact our support team by phone."
T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _event(name: str, thumb: Thumb, who: FeedbackGiver, minute: int, correction: str | None):
    return ChatFeedbackEvent(
        id=f"fb-{name}",
        source="https://chat.example.com",
        time=T0 + timedelta(minutes=minute),
        tenant="acme",
        data=ChatFeedback(
            conversation_id="conv-1",
            model_id="assistant-v3",
            messages=[ChatMessage(role=Role.USER, content=PROMPT)],
            response=RESPONSE,
            rating=Rating(thumb=thumb),
            correction=correction,
            given_by=who,
        ),
    )


# A reviewer liked the response first and wrote the good correction: the reviewer policy then
# differs from the latest-wins policy (the end user's deflecting correction is the latest).
EVENTS = [
    _event("up", Thumb.UP, FeedbackGiver.REVIEWER, 1, None),
    _event("down", Thumb.DOWN, FeedbackGiver.END_USER, 2, None),
    _event("good-fix", Thumb.DOWN, FeedbackGiver.REVIEWER, 3, GOOD),
    _event("deflect-fix", Thumb.DOWN, FeedbackGiver.END_USER, 4, DEFLECT),
]
# Policy -> (label of RESPONSE, the correction kept).
EXPECTED = {
    ConflictPolicy.LATEST: (False, DEFLECT),
    ConflictPolicy.REVIEWER: (False, GOOD),
    ConflictPolicy.MAJORITY: (False, DEFLECT),  # 1 up vs 3 down; the corrections tie: latest
}
ORDERS = list(itertools.permutations(range(len(EVENTS))))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, ...], ExampleStore]:
    """One SQLite store per arrival order, each fed the four events one at a time."""
    out: dict[tuple[int, ...], ExampleStore] = {}
    for order in ORDERS:
        url = f"sqlite:///{tmp_path_factory.mktemp('order')}/w.db"
        upgrade(url)
        store = ExampleStore(url)
        index = NearDuplicateIndex()
        for offset, i in enumerate(order):
            examples = event_to_examples(EVENTS[i], Coordinates("feedback", 0, offset))
            decided, sigs = curate_batch(examples, [], index, store.dedup_texts)
            store.write_decisions(decided, sigs)
            index.forget_recent()
        out[order] = store
    return out


def _completion(row: dict) -> str:  # type: ignore[type-arg]
    return str(row["completion"][0]["content"])


@pytest.mark.parametrize("policy", list(ConflictPolicy))
def test_one_label_per_pair_in_every_order(
    stores: dict[tuple[int, ...], ExampleStore], tmp_path: Path, policy: ConflictPolicy
) -> None:
    """Every order: nothing rejected as a duplicate, conflicts counted, no contradiction."""
    response_label, kept = EXPECTED[policy]
    dropped = {GOOD, DEFLECT} - {kept}
    for n, (order, store) in enumerate(stores.items()):
        with store.engine.connect() as conn:
            reasons = [r for (rs,) in conn.execute(select(REJECTIONS.c.reasons)) for r in rs]
        assert reasons == [], f"order {order}: conflicting feedback rejected as {reasons}"

        kto_out = tmp_path / f"kto-{n}"
        manifest = export_snapshot(
            store,
            _query(),
            ExportFormat.KTO,
            kto_out,
            counter=CharTokenCounter(),
            policy=policy,
            min_count=2,
        ).manifest
        conflicts = manifest["conflicts"]
        assert conflicts["label_conflicts"] == 1, order
        assert conflicts["correction_conflicts"] == 1, order
        assert conflicts["unresolved"] == 0, order
        labels: dict[str, set[bool]] = defaultdict(set)
        rows = jsonl(kto_out / "unrouted" / "kto.jsonl")
        for row in rows:
            labels[_completion(row)].add(row["label"])
        assert len(rows) == len(labels), f"order {order}: a (prompt, completion) row twice"
        assert labels == {RESPONSE: {response_label}, kept: {True}}, order
        assert not dropped & set(labels), order

        dpo_out = tmp_path / f"dpo-{n}"
        export_snapshot(
            store,
            _query(),
            ExportFormat.DPO,
            dpo_out,
            counter=CharTokenCounter(),
            policy=policy,
            min_count=2,
        )
        pairs = [
            (r["chosen"][0]["content"], r["rejected"][0]["content"])
            for r in jsonl(dpo_out / "unrouted" / "dpo.jsonl")
        ]
        assert pairs == [(kept, RESPONSE)], order
        # No completion is both chosen and rejected, and none contradicts its KTO label.
        for chosen, rejected in pairs:
            assert labels[chosen] == {True} and labels[rejected] == {False}


def test_majority_below_min_count_exports_nothing_about_the_pair(
    stores: dict[tuple[int, ...], ExampleStore], tmp_path: Path
) -> None:
    """3 down votes against 1 up: with a minimum of 4 the pair is unresolved and left out."""
    store = stores[ORDERS[0]]
    manifest = export_snapshot(
        store,
        _query(),
        ExportFormat.KTO,
        tmp_path / "kto",
        counter=CharTokenCounter(),
        policy=ConflictPolicy.MAJORITY,
        min_count=4,
    ).manifest
    assert manifest["conflicts"]["unresolved"] == 1
    completions = {_completion(r) for r in jsonl(tmp_path / "kto" / "unrouted" / "kto.jsonl")}
    assert RESPONSE not in completions
    assert completions == {DEFLECT}


def _query():  # type: ignore[no-untyped-def]
    from winnow.store.queries import ExampleQuery

    return ExampleQuery("acme")
