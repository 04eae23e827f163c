"""Measure the dedup index: precision/recall on planted near duplicates of real text, speed, memory.

Originals are Bitext customer-support Q&A pairs and schema-guided-dialogue turn pairs, read in
place from ``/work/shared/data``. Each planted copy gets one or two edits: typos, casing,
punctuation, two sentences swapped, PII values changed or replaced by ``<EMAIL>``-style
placeholders. A copy flagged is a true positive; an original flagged is a false positive.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from winnow.bench.corpus import load_pairs, make_example
from winnow.bench.edits import EDITS
from winnow.dedup.index import (
    NearDuplicateIndex,
    dedup_text,
    normalise_text,
    shingle_hashes,
)
from winnow.example import Example
from winnow.reasons import DropReason


@dataclass
class DedupReport:
    """Outcome of :func:`measure_dedup`."""

    originals: int
    planted: int
    true_positives: int
    false_positives: int
    false_negatives: int
    by_edit_recall: dict[str, float]
    reasons: dict[str, int]
    examples_per_s: float
    bands: int
    rows: int
    false_positive_samples: list[tuple[str, str]] = field(default_factory=list)
    corpus_duplicates: int = 0
    """Originals flagged against an earlier original whose exact shingle Jaccard is at least the
    threshold: true near-duplicates already in the corpus, counted as true positives."""

    @property
    def precision(self) -> float:
        """Flagged examples that are planted copies or exact-Jaccard near-duplicates."""
        good = self.true_positives + self.corpus_duplicates
        flagged = good + self.false_positives
        return good / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        """Planted copies flagged."""
        return self.true_positives / self.planted if self.planted else 1.0


def measure_dedup(
    n: int = 5000, seed: int = 0, threshold: float = 0.75, *, verify: bool = True
) -> DedupReport:
    """Index ``n`` real originals, then planted copies of half of them; count hits and misses."""
    rng = random.Random(seed)
    pairs = load_pairs()
    rng.shuffle(pairs)
    originals = pairs[:n]
    index = NearDuplicateIndex(threshold)
    # The store, simulated: dedup texts by id prefix, as ExampleStore.dedup_texts answers.
    stored: dict[str, list[str]] = {}

    def fetch(tenant: str, prefixes: list[str]) -> dict[str, list[str]]:
        return {p: stored[p] for p in prefixes if p in stored}

    def check(example: Example) -> DropReason | None:
        reason = index.check_and_add(example, fetch if verify else None)
        if reason is None:
            stored.setdefault(example.id[:8], []).append(dedup_text(example))
        index.forget_recent()
        return reason

    start = time.perf_counter()
    fp_samples: list[tuple[str, str]] = []
    fp = corpus_dups = 0
    shingles: list[set[int]] = []
    indexed: list[tuple[str, str]] = []
    indexed_ids: set[str] = set()
    for i, (q, a) in enumerate(originals):
        example = make_example(q, a, n=i)
        mine = set(shingle_hashes(normalise_text(dedup_text(example))).tolist())
        if check(example) is None:
            indexed.append((q, a))
            indexed_ids.add(example.id)
        else:
            # Ground truth by exact Jaccard on the same shingles: the corpus has real copies.
            best = max((len(mine & s) / len(mine | s) for s in shingles), default=0.0)
            if best >= threshold:
                corpus_dups += 1
            else:
                fp += 1
                if len(fp_samples) < 5:
                    fp_samples.append((q, a[:200]))
        shingles.append(mine)
    hits: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    # Copies of indexed originals only: a copy of an original that was itself dropped as a
    # duplicate has nothing in the index to be a duplicate of.
    planted = indexed[: n // 2]
    for i, (q, a) in enumerate(planted):
        names = rng.sample(sorted(EDITS), k=rng.choice([1, 2]))
        for name in names:
            q, a = EDITS[name](rng, q), EDITS[name](rng, a)
        copy = make_example(q, a, n=n + i)
        # An edit that changed nothing (no digits to vary, one sentence to reorder) leaves the
        # content hash equal: the store rejects that copy as DUPLICATE before the index is asked.
        reason = DropReason.DUPLICATE if copy.id in indexed_ids else check(copy)
        for name in names:
            tried[name] += 1
            hits[name] += reason is not None
        if reason is not None:
            reasons[reason.value] += 1
    elapsed = time.perf_counter() - start
    tp = sum(reasons.values())
    return DedupReport(
        originals=len(originals),
        planted=len(planted),
        true_positives=tp,
        false_positives=fp,
        false_negatives=len(planted) - tp,
        by_edit_recall={k: hits[k] / tried[k] for k in sorted(tried)},
        reasons=dict(reasons),
        examples_per_s=(len(originals) + len(planted)) / elapsed,
        bands=index.hasher.bands,
        rows=index.hasher.rows,
        false_positive_samples=fp_samples,
        corpus_duplicates=corpus_dups,
    )


def measure_memory(n: int = 100_000, seed: int = 0) -> float:
    """Bytes per indexed example (tracemalloc) after adding ``n`` examples' keys to one tenant.

    Keys are random 64-bit values: memory depends on the key count, not on the text.
    """
    index = NearDuplicateIndex()
    rng = np.random.default_rng(seed)
    exact = rng.integers(0, 2**63, n, dtype=np.uint64)
    bands = rng.integers(0, 2**63, (n, index.hasher.bands), dtype=np.uint64)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    width = index.hasher.bands * index.hasher.rows
    sketches = rng.integers(0, 256, (n, width), dtype=np.uint8)
    tenant = index._tenant("acme")
    for i in range(n):
        tenant.add(int(exact[i]), i, bands[i], i & 0xFFFFFFFF, sketches[i])
    index.nbytes()  # flushes buffers
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / n


def drop_reason_names() -> list[str]:
    """The reasons the index can return."""
    return [DropReason.NORMALISED_DUPLICATE.value, DropReason.NEAR_DUPLICATE.value]
