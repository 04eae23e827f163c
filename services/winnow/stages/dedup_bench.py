"""Measure the dedup index: precision/recall on planted near duplicates of real text, speed, memory.

Originals are Bitext customer-support Q&A pairs and schema-guided-dialogue turn pairs, read in
place from ``/work/shared/data``. Each planted copy gets one or two edits: typos, casing,
punctuation, two sentences swapped, PII values changed or replaced by ``<EMAIL>``-style
placeholders. A copy flagged is a true positive; an original flagged is a false positive.
"""

from __future__ import annotations

import csv
import json
import random
import re
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, SourceRef, example_id
from winnow.reasons import DropReason
from winnow.stages.dedup import (
    NearDuplicateIndex,
    _TenantIndex,
    dedup_text,
    normalise_text,
    shingle_hashes,
)
from winnow.testing import shared_data_dir

DATA = shared_data_dir()
BITEXT = (
    DATA / "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
)
SGD = DATA / "schema-guided-dialogue/train"
_T0 = datetime(2026, 11, 1, tzinfo=UTC)


def load_pairs(limit: int | None = None) -> list[tuple[str, str]]:
    """(question, answer) pairs: every Bitext row, then SGD user/system turn pairs."""
    pairs: list[tuple[str, str]] = []
    if BITEXT.exists():
        with BITEXT.open(newline="") as fh:
            pairs += [(r["instruction"], r["response"]) for r in csv.DictReader(fh)]
    for path in sorted(SGD.glob("dialogues_*.json")):
        for dialogue in json.loads(path.read_text()):
            turns = [t["utterance"] for t in dialogue["turns"]]
            for i in range(0, len(turns) - 3, 2):
                pairs.append((turns[i], f"{turns[i + 1]} {turns[i + 3]}"))
    unique = list(dict.fromkeys(pairs))
    return unique[:limit] if limit else unique


def make_example(question: str, answer: str, tenant: str = "acme", n: int = 0) -> Example:
    """A minimal SFT example around one question and answer."""
    messages = [
        ChatMessage(role=Role.USER, content=question),
        ChatMessage(role=Role.ASSISTANT, content=answer),
    ]
    return Example(
        id=example_id(tenant=tenant, kind=ExampleKind.SFT, messages=messages),
        kind=ExampleKind.SFT,
        tenant=tenant,
        messages=messages,
        provenance="human_agent",
        source=SourceRef(event_id=f"e{n}", event_type="bench"),
        event_time=_T0,
    )


def _typos(rng: random.Random, text: str) -> str:
    chars = list(text)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    for i in rng.sample(letters, k=min(len(letters), max(1, len(letters) // 60))):
        chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return "".join(chars)


def _casing(rng: random.Random, text: str) -> str:
    return rng.choice([text.lower(), text.upper(), text.title()])


def _punct(rng: random.Random, text: str) -> str:
    text = re.sub(r"[,;:!]", "", text)
    return text.replace(". ", rng.choice(["! ", "; ", " - ", ".\n"]))


def _reorder(rng: random.Random, text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text)
    if len(sentences) > 2:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    return " ".join(sentences)


def _pii(rng: random.Random, text: str) -> str:
    """Other PII values (digits), placeholders in the redactor's form (``<ORDER_NUMBER>``)."""
    text = re.sub(
        r"\{\{([^}]*)\}\}", lambda m: "<" + m.group(1).strip().upper().replace(" ", "_") + ">", text
    )
    return re.sub(r"\d+", lambda m: str(rng.randrange(10 ** len(m.group()))), text)


EDITS: dict[str, Callable[[random.Random, str], str]] = {
    "typos": _typos,
    "casing": _casing,
    "punctuation": _punct,
    "reorder": _reorder,
    "pii": _pii,
}


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

    def fetch(tenant: str, prefixes: list[str]) -> list[str]:
        return [t for p in prefixes for t in stored.get(p, [])]

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
    tenant = index._tenants.setdefault("acme", _TenantIndex())
    for i in range(n):
        tenant.exact.add([int(exact[i])], i)
        tenant.bands.add(bands[i], i & 0xFFFFFFFF)
    index.nbytes()  # flushes buffers
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / n


def drop_reason_names() -> list[str]:
    """The reasons the index can return."""
    return [DropReason.NORMALISED_DUPLICATE.value, DropReason.NEAR_DUPLICATE.value]
