"""Exact (normalised) and near-duplicate detection, incremental, rebuildable, per tenant."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import SQLModel

from winnow.bench.corpus import BITEXT, bench_pairs, make_example
from winnow.bench.dedup_quality import measure_dedup
from winnow.dedup import arrays
from winnow.dedup.index import (
    DedupRow,
    NearDuplicateIndex,
    _Plan,
    decode_signature,
    dedup_text,
    encode_signature,
    owner32_of,
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

        def fetch(tenant: str, prefixes: list[str]) -> dict[str, list[str]]:
            seen.append(len(prefixes))
            return {p: [texts[p]] for p in prefixes if p in texts}

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
        """Stored signature bytes decode to the keys and sketch they were made from; keys
        stored before sketches existed decode with no sketch."""
        index = NearDuplicateIndex()
        exact, bands, bits = index.hasher.sketch_of(Q + "\n" + A)
        got_exact, got_bands, got_bits = decode_signature(encode_signature(exact, bands, bits))
        assert got_exact == exact and list(got_bands) == list(bands)
        assert got_bits is not None and list(got_bits) == list(bits) and len(bits) == 40
        old_exact, old_bands, no_bits = decode_signature(encode_signature(exact, bands))
        assert old_exact == exact and list(old_bands) == list(bands) and no_bits is None

    def test_unlikely_candidates_are_not_fetched(self) -> None:
        """Of ~30 stored texts sharing a band with the probe (half the answer's words changed:
        Jaccard 0.33-0.53), only the few the sketch puts near 0.5 are fetched and verified; a near
        copy is fetched and caught."""
        fetched: list[str] = []
        texts: dict[str, str] = {}

        def fetch(tenant: str, prefixes: list[str]) -> dict[str, list[str]]:
            fetched.extend(prefixes)
            return {p: [texts[p]] for p in prefixes if p in texts}

        def filler(i: int) -> Example:
            rng = random.Random(i)
            words = A.split()
            for j in rng.sample(range(len(words)), len(words) // 2):
                words[j] = f"zz{i}x{j}"
            return make_example(Q, " ".join(words), n=i)

        index = NearDuplicateIndex()
        rows = []
        for ex in (filler(i) for i in range(2, 300)):
            texts[ex.id[:8]] = dedup_text(ex)
            rows.append(DedupRow(tenant=ex.tenant, id=ex.id, dedup_sig=index.signature_of(ex)))
        index.rebuild(rows)
        probe = make_example(Q, A, n=1)
        _, bands, _ = index.hasher.sketch_of(dedup_text(probe))
        sharing = index._tenant("acme").candidates(bands).size
        assert sharing > 20  # the fillers are LSH candidates of the probe ...
        assert index.check_and_add(probe, fetch) is None
        assert len(fetched) == index.exact_checks <= sharing // 5  # ... few are worth a read
        fetched.clear()
        index.forget_recent()
        texts[probe.id[:8]] = dedup_text(probe)
        near = make_example(Q, A.replace("press", "prss"), n=9999)
        assert index.check_and_add(near, fetch) is DropReason.NEAR_DUPLICATE
        assert fetched[0] == probe.id[:8] and len(fetched) <= sharing // 5  # best estimate first

    def test_keys_stored_without_a_sketch_are_verified(self) -> None:
        """An index rebuilt from old keys (no sketch) still catches near copies by verifying
        every candidate, and keeps new text."""
        texts: dict[str, str] = {}

        def fetch(tenant: str, prefixes: list[str]) -> dict[str, list[str]]:
            return {p: [texts[p]] for p in prefixes if p in texts}

        index = NearDuplicateIndex()
        original = make_example(Q, A, n=1)
        texts[original.id[:8]] = dedup_text(original)
        exact, bands = index.hasher.keys_of(dedup_text(original))
        index.rebuild([DedupRow("acme", original.id, encode_signature(exact, bands))])
        assert index.check_and_add(make_example(Q, A.replace("press", "prss"), n=2), fetch) == (
            DropReason.NEAR_DUPLICATE
        )
        assert index.exact_checks == 1
        assert index.check_and_add(make_example(Q, "Something else entirely.", n=3), fetch) is None

    def test_incremental_and_rebuilt_indexes_agree(self) -> None:
        """5,000 examples added one by one (buffers flushed many times) and the same examples
        rebuilt in bulk give every probe the same candidates and decision."""
        pairs = bench_pairs(5200, seed=3)
        added, rows = NearDuplicateIndex(), []
        for i, (q, a) in enumerate(pairs[:5000]):
            ex = make_example(q, a, n=i)
            reason, sig = added.check_and_sign(ex)
            if reason is None and sig is not None:
                rows.append(DedupRow("acme", ex.id, sig))
            added.forget_recent()
        rebuilt = NearDuplicateIndex()
        assert rebuilt.rebuild(rows) == len(rows) == len(added) > 4000  # the corpus repeats itself
        for j, (q, a) in enumerate(pairs[4900:5200]):  # 100 already indexed, 200 new
            probe = make_example(q, a.upper(), n=10_000 + j)
            _, bands, bits = added.hasher.sketch_of(dedup_text(probe))
            got = [
                sorted(
                    ix._tenant("acme").sketches.owners[ix._tenant("acme").candidates(bands, bits)]
                )
                for ix in (added, rebuilt)
            ]
            assert got[0] == got[1]
            assert added.check_and_add(probe) == rebuilt.check_and_add(probe)

    def test_prefetch_reads_a_batch_at_once_and_decides_as_checks_one_by_one(self) -> None:
        """A batch of new texts, near copies of stored ones and near copies of each other,
        checked after :meth:`prefetch`, reads every stored candidate in one fetch (checks alone
        read once per example with a likely candidate) and gets the same decisions, also after
        the band buffers were flushed mid-batch (600 new texts: 6,000 entries)."""
        pairs = bench_pairs(3000, seed=7)
        base, rows = NearDuplicateIndex(), []
        texts: dict[str, list[str]] = {}
        for i, (q, a) in enumerate(pairs[:2400]):
            ex = make_example(q, a, n=i)
            reason, sig = base.check_and_sign(ex)
            if reason is None and sig is not None:
                rows.append(DedupRow("acme", ex.id, sig))
                texts.setdefault(ex.id[:8], []).append(dedup_text(ex))
            base.forget_recent()
        calls: list[list[str]] = []

        def fetch(tenant: str, prefixes: list[str]) -> dict[str, list[str]]:
            calls.append(prefixes)
            return {p: texts[p] for p in prefixes if p in texts}

        new = [make_example(q, a, n=10_000 + i) for i, (q, a) in enumerate(pairs[2400:])]
        copies = [make_example(q, a + " Thanks!", n=20_000 + i) for i, (q, a) in enumerate(pairs)]
        # Copies of this batch's own texts before and after the flush, and of stored ones.
        batch = [*new[:100], *copies[2400:2440], *copies[:40], *new[100:], *copies[2800:2840]]
        alone, batched = NearDuplicateIndex(), NearDuplicateIndex()
        alone.rebuild(rows)
        batched.rebuild(rows)
        expected = [alone.check_and_sign(e, fetch) for e in batch]
        one_by_one = len(calls)
        calls.clear()
        assert batched.prefetch(batch, fetch) == len(calls[0])
        version = batched._tenant("acme").bands.version
        assert [batched.check_and_sign(e, fetch) for e in batch] == expected
        assert batched._tenant("acme").bands.version > version  # flushed on the way
        assert len(calls) == 1 and one_by_one > 20
        reasons = [r for r, _ in expected]
        assert reasons.count(DropReason.NEAR_DUPLICATE) >= 60 and reasons.count(None) >= 100


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


class TestHotBandKeys:
    def test_hot_keys_bound_candidates_and_keep_near_copies(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With a low hot limit, popular band keys move under refined keys: candidates per probe
        stay bounded, close copies are still caught, and an incremental and a rebuilt index
        give every probe the same candidates."""
        monkeypatch.setattr(arrays, "HOT_LIMIT", 8)
        pairs = bench_pairs(3000, seed=5)
        added, rows = NearDuplicateIndex(), []
        for i, (q, a) in enumerate(pairs):
            ex = make_example(q, a, n=i)
            reason, sig = added.check_and_sign(ex)
            if reason is None and sig is not None:
                rows.append(DedupRow("acme", ex.id, sig))
            added.forget_recent()
        rebuilt = NearDuplicateIndex()
        rebuilt.rebuild(rows)
        live, again = added._tenant("acme"), rebuilt._tenant("acme")
        live.bands.flush()
        assert live.bands.hot and set(live.bands.hot) == set(again.bands.hot)
        for j, (q, a) in enumerate(pairs[:200]):
            probe = make_example(q, a + " Thanks!", n=10_000 + j)
            _, bands, bits = added.hasher.sketch_of(dedup_text(probe))
            got = [sorted(ix.sketches.owners[ix.candidates(bands, bits)]) for ix in (live, again)]
            assert got[0] == got[1]
            assert len(got[0]) <= 10 * 8 + 10 * arrays.REFINED_LIMIT
            assert rebuilt.check_and_add(probe) is not None  # a near copy of a stored text

    def test_batch_lookup_finds_what_lookups_one_by_one_find(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The batch lookup :meth:`prefetch` uses gives every probe the same likely
        candidates, in the same order, with the same estimates as one lookup each, hot band
        keys and buffered (unflushed) entries included."""
        monkeypatch.setattr(arrays, "HOT_LIMIT", 8)
        pairs = bench_pairs(2800, seed=5)
        index, rows = NearDuplicateIndex(), []
        for i, (q, a) in enumerate(pairs[:2400]):
            ex = make_example(q, a, n=i)
            reason, sig = index.check_and_sign(ex)
            if reason is None and sig is not None:
                rows.append(DedupRow("acme", ex.id, sig))
            index.forget_recent()
        index.rebuild(rows)
        for i, (q, a) in enumerate(pairs[2400:2600]):  # buffered, not merged
            index.check_and_add(make_example(q, a, n=5_000 + i))
        tenant = index._tenant("acme")
        assert tenant.bands.hot and tenant.bands.main.pending and tenant.bands.refined.pending
        probes = [
            make_example(q, a + " Thanks!", n=10_000 + j)
            for j, (q, a) in enumerate([*pairs[:100], *pairs[2400:2500], *pairs[2600:]])
        ]
        plans = [_Plan(index.hasher.sketch_of(dedup_text(p))) for p in probes]
        one_by_one = [
            index._likely(tenant, plan.sketch[1], plan.sketch[2], owner32_of(p.id))
            for p, plan in zip(probes, plans, strict=True)
        ]
        assert index._likely_many(tenant, probes, plans) == one_by_one
        assert sum(len(owners) for owners, _ in one_by_one) > 100

    def test_refined_keys_in_python_match_the_vectorised_ones(self) -> None:
        """The plain-Python refined keys (a lookup's or an addition's few hot bands) equal the
        numpy ones the rebuild and the batch lookup use, with a sketch and without one."""
        rng = np.random.default_rng(3)
        entries = NearDuplicateIndex()._tenant("acme").bands
        for _ in range(200):
            keys = rng.integers(0, 2**64, 10, dtype=np.uint64, endpoint=False)
            bits = rng.integers(0, 256, 40, dtype=np.uint8)
            hot = sorted(rng.choice(10, size=int(rng.integers(1, 11)), replace=False).tolist())
            lows = (keys & np.uint64(0xFFFFFFFF)).tolist()
            bands = np.array(hot, dtype=np.int64)
            for sketch in (bits, None):
                grid = np.zeros((bands.size, 40), dtype=np.uint8)
                if sketch is not None:
                    grid[:] = sketch
                want = entries._refine(keys[bands] & np.uint64(0xFFFFFFFF), bands, grid)
                assert entries._refined_keys(lows, hot, sketch) == want.tolist()
