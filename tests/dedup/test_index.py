"""Exact (normalised) and near-duplicate detection, incremental, rebuildable, per tenant."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from sqlmodel import SQLModel

from winnow.bench.corpus import BITEXT, make_example
from winnow.bench.dedup_quality import measure_dedup
from winnow.dedup.index import (
    DedupRow,
    NearDuplicateIndex,
    decode_signature,
    dedup_text,
    encode_signature,
)
from winnow.example import Decision, Example
from winnow.reasons import DropReason
from winnow.store.store import ExampleStore

Q = "How do I cancel order 12345 placed with my account jane@example.com?"
A = (
    "I understand you want to cancel order 12345. Log in to your account, open Orders, "
    "choose the order and press Cancel. If the order has shipped already, you can return "
    "it within thirty days for a full refund instead."
)


class TestIndex:
    def test_exact_normalised_duplicate(self) -> None:
        """Case, punctuation and number changes give normalised_duplicate; a redelivery does not."""
        index = NearDuplicateIndex()
        first = make_example(Q, A, n=1)
        assert index.check_and_add(first) is None
        copy = make_example(Q.upper().replace("12345", "99999"), A.replace(",", ""), n=2)
        assert index.check_and_add(copy) is DropReason.NORMALISED_DUPLICATE
        assert index.check_and_add(first) is None

    def test_near_duplicate(self) -> None:
        """A copy with typos and a swapped placeholder is a near duplicate; new text is kept."""
        index = NearDuplicateIndex()
        assert index.check_and_add(make_example(Q, A, n=1)) is None
        near = make_example(Q.replace("jane@example.com", "<EMAIL>"), A.replace("press", "prss"))
        assert index.check_and_add(near) is DropReason.NEAR_DUPLICATE
        other = make_example("Where is my parcel?", "It left our warehouse yesterday by courier.")
        assert index.check_and_add(other) is None

    def test_incremental_across_batches(self) -> None:
        """A duplicate arriving many examples later is still caught (the index keeps growing)."""
        index = NearDuplicateIndex()
        assert index.check_and_add(make_example(Q, A)) is None
        for i in range(3000):
            index.check_and_add(
                make_example(f"question {i} about item {chr(65 + i % 26)}", f"x{i}")
            )
        assert index.check_and_add(make_example(Q, A.replace("thirty", "30"))) is not None

    def test_candidate_cap_verifies_the_best_matching_candidates_first(self) -> None:
        """Among ~180 stored candidates (a quarter of the words changed: Jaccard 0.54-0.71 with
        the probe, so none is a duplicate) and one near copy, a cap of 5 still verifies the near
        copy (it shares the most bands) and catches it; the cut is counted."""
        seen: list[int] = []
        texts: dict[str, str] = {}

        def fetch(tenant: str, prefixes: list[str]) -> list[str]:
            seen.append(len(prefixes))
            return [texts[p] for p in prefixes if p in texts]

        def filler(i: int) -> Example:
            rng = random.Random(i)
            words = A.split()
            for j in rng.sample(range(len(words)), len(words) // 4):
                words[j] = f"zz{i}x{j}"
            return make_example(Q, " ".join(words), n=i)

        original = make_example(Q, A, n=1)
        index = NearDuplicateIndex(max_candidates=5)
        rows = []
        for ex in [*(filler(i) for i in range(2, 300)), original]:  # original last on purpose
            texts[ex.id[:8]] = dedup_text(ex)
            rows.append(DedupRow(tenant=ex.tenant, id=ex.id, dedup_sig=index.signature_of(ex)))
        index.rebuild(rows)
        near = make_example(Q, A.replace("press", "prss"), n=9999)
        assert index.check_and_add(near, fetch) is DropReason.NEAR_DUPLICATE
        assert index.capped_checks == 1
        assert sum(seen) == 5

        uncapped = NearDuplicateIndex()
        uncapped.rebuild(rows[:-1])  # the fillers alone: verified, none is near enough
        seen.clear()
        assert uncapped.check_and_add(near, fetch) is None
        assert sum(seen) > 100 and uncapped.capped_checks == 0

    def test_tenant_isolation(self) -> None:
        """The same text in another tenant is not a duplicate."""
        index = NearDuplicateIndex()
        assert index.check_and_add(make_example(Q, A, tenant="acme")) is None
        assert index.check_and_add(make_example(Q, A, tenant="globex")) is None
        assert index.check_and_add(make_example(Q, A, tenant="globex", n=5)) is None  # same id

    def test_signature_round_trip(self) -> None:
        """Stored signature bytes decode to the keys they were made from."""
        index = NearDuplicateIndex()
        exact, bands = index.hasher.keys_of(Q + "\n" + A)
        got_exact, got_bands = decode_signature(encode_signature(exact, bands))
        assert got_exact == exact and list(got_bands) == list(bands)


class TestRebuild:
    def test_rebuild_from_store_gives_same_decisions(self, tmp_path: Path) -> None:
        """After a restart, an index rebuilt from the store decides like the one that wrote it."""
        store = ExampleStore(f"sqlite:///{tmp_path / 'w.db'}")
        SQLModel.metadata.create_all(store.engine)
        live = NearDuplicateIndex()
        stored = [
            make_example(Q, A, n=1),
            make_example("Reset my password", "Use Forgot password on the login page.", n=2),
        ]
        for ex in stored:
            assert live.check_and_add(ex) is None
        accepted = [e.model_copy(update={"decision": Decision(status="accepted")}) for e in stored]
        store.write_decisions(accepted, {e.id: live.signature_of(e) for e in stored})
        rebuilt = NearDuplicateIndex()
        assert rebuilt.rebuild(store.iter_dedup_signatures(tenant="acme")) == 2
        probes = [
            make_example(Q.lower(), A, n=3),
            make_example(Q, A.replace("Cancel", "Cancle"), n=4),
            make_example("Unrelated question here", "A completely different answer text.", n=5),
            stored[0],
        ]
        for probe in probes:
            assert rebuilt.check_and_add(probe) == live.check_and_add(probe)
        store.close()


class TestMeasured:
    def test_same_intent_bitext_answers_are_not_duplicates(self) -> None:
        """Different Bitext answers of one intent (different questions and wording) are kept."""
        with BITEXT.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        by_intent: dict[str, list[dict[str, str]]] = {}
        for r in rows:
            by_intent.setdefault(r["intent"], []).append(r)
        index = NearDuplicateIndex()
        picked = [r for group in by_intent.values() for r in group[:3]]
        flagged = [
            r["instruction"]
            for i, r in enumerate(picked)
            if index.check_and_add(make_example(r["instruction"], r["response"], n=i))
        ]
        assert len(flagged) <= len(picked) // 20, flagged  # measured: 3 of 81 (templated twins)

    def test_planted_precision_recall(self) -> None:
        """On 2,000 real texts and 1,000 planted copies, recall and precision stay high."""
        report = measure_dedup(2000, seed=1)
        assert report.recall >= 0.88  # measured 0.912; the goal of 0.95 is not met yet
        assert report.precision >= 0.95  # measured 0.973; the goal of 0.99 is not met yet


def test_preference_and_its_sft_copy_are_not_duplicates() -> None:
    """A correction's preference pair and SFT example share text but are both kept (regression)."""
    from winnow.events import SOURCE_EVENT_ADAPTER
    from winnow.stages.decode import Coordinates
    from winnow.stages.normalise import event_to_examples
    from winnow.testing.fixtures import feedback_event

    doc = feedback_event(
        "How do I reset my password?",
        "No idea.",
        thumb="down",
        correction="Use 'Forgot password' on the sign-in page.",
    )
    pref, sft = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), Coordinates())
    index = NearDuplicateIndex()
    assert index.check_and_add(pref) is None
    assert index.check_and_add(sft) is None
