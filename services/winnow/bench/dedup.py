"""Measure the dedup index: precision/recall on planted near duplicates of real text, speed, memory.

Originals are Bitext customer-support Q&A pairs and schema-guided-dialogue turn pairs, read in
place from ``/work/shared/data``. Each planted copy gets one or two edits: typos, casing,
punctuation, two sentences swapped, PII values changed or replaced by ``<EMAIL>``-style
placeholders. A copy flagged is a true positive; an original flagged is a false positive.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import random
import re
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from winnow.bench.corpus import bench_pairs, load_pairs, make_example
from winnow.bench.report import BenchResult, Figure, Goal, machine_info, rss_bytes
from winnow.dedup.index import (
    DedupRow,
    NearDuplicateIndex,
    _TenantIndex,
    dedup_text,
    dedup_text_of,
    encode_signature,
    normalise_text,
    shingle_hashes,
)
from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, example_id
from winnow.reasons import DropReason

if TYPE_CHECKING:
    from matplotlib.figure import Figure as PlotFigure


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


# --- `winnow bench dedup`: the index at 100k and 1M examples -------------------------------


@dataclass
class ScaleReport:
    """The index at one size: memory, rebuild time, recall and precision against exact search."""

    examples: int
    nbytes: int
    traced_bytes: int
    rss_bytes: int
    rebuild_s: float
    keys_per_s: float
    planted: int
    flagged_planted: int
    exact_planted: int
    """Planted copies whose exact shingle Jaccard with their original reaches the threshold."""
    heldout: int
    flagged_heldout: int
    sample: int
    sample_exact: int
    """Sample queries that a brute-force exact scan over every indexed text calls duplicates."""
    sample_index: int
    sample_both: int
    checks_per_s: float
    threshold: float

    @property
    def recall(self) -> float:
        """Planted copies the index flags."""
        return self.flagged_planted / self.planted if self.planted else 1.0

    @property
    def exact_recall(self) -> float:
        """Planted copies exact Jaccard with the original flags: the ceiling for ``recall``."""
        return self.exact_planted / self.planted if self.planted else 1.0

    @property
    def recall_vs_exact(self) -> float:
        """On the sample: duplicates found by the brute-force scan that the index flags too."""
        return self.sample_both / self.sample_exact if self.sample_exact else 1.0

    @property
    def precision_vs_exact(self) -> float:
        """On the sample: index flags that the brute-force scan confirms."""
        return self.sample_both / self.sample_index if self.sample_index else 1.0


class _BruteForce:
    """Exact shingle Jaccard of a few query texts against every indexed text, one text at a time.

    The queries' shingles go into one sorted array with a CSR list of the queries holding each
    shingle, so one indexed text costs one ``searchsorted`` whatever the number of queries.
    """

    def __init__(self, queries: list[str]) -> None:
        sets = [shingle_hashes(normalise_text(q)) for q in queries]
        self.sizes = np.array([s.size for s in sets], dtype=np.int64)
        labels = np.concatenate([np.full(s.size, i, dtype=np.int64) for i, s in enumerate(sets)])
        values = np.concatenate(sets) if sets else np.zeros(0, dtype=np.uint64)
        order = np.argsort(values, kind="stable")
        values, self.labels = values[order], labels[order]
        self.unique, starts = np.unique(values, return_index=True)
        self.indptr = np.append(starts, values.size).astype(np.int64)
        self.best = np.zeros(len(queries), dtype=np.float64)

    def update(self, shingles: npt.NDArray[np.uint64]) -> None:
        """Fold one indexed text's shingle set into every query's best Jaccard so far."""
        if not self.unique.size:
            return
        pos = np.minimum(np.searchsorted(self.unique, shingles), self.unique.size - 1)
        pos = pos[self.unique[pos] == shingles]
        if not pos.size:
            return
        starts, ends = self.indptr[pos], self.indptr[pos + 1]
        lens = ends - starts
        flat = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
        inter = np.bincount(self.labels[flat], minlength=self.sizes.size)
        jaccard = inter / (self.sizes + shingles.size - inter)
        np.maximum(self.best, jaccard, out=self.best)


def measure_scale(
    n: int,
    *,
    planted: int = 2000,
    heldout: int = 2000,
    sample: int = 200,
    seed: int = 0,
    threshold: float = 0.75,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> ScaleReport:
    """Index ``n`` texts, plant edited copies of ``planted`` of them, check held-out texts too.

    Memory is measured three ways on the same rebuilt index: its arrays (``nbytes``), what
    tracemalloc sees it keep, and the process's RSS growth. Ground truth is exact shingle Jaccard:
    of each planted copy with its original (all copies), and, for ``sample`` queries (half copies,
    half held-out), a brute-force scan over all ``n`` indexed texts. ``progress(label, total)``
    returns a callback taking the number of items just done (a progress bar).
    """
    rng = random.Random(seed)
    pairs = bench_pairs(n + heldout, seed)
    rng.shuffle(pairs)
    background, fresh = pairs[:n], pairs[n:]
    tenant = "bench"
    texts = [_sft_text(q, a) for q, a in background]
    # Queries first, so the one pass that computes every indexed text's keys also runs the
    # brute-force scan.
    chosen = rng.sample(range(n), k=min(planted, n))
    copies: list[tuple[int, Example, list[str]]] = []
    for j, i in enumerate(chosen):
        q, a = background[i]
        names = rng.sample(sorted(EDITS), k=rng.choice([1, 2]))
        for name in names:
            q, a = EDITS[name](rng, q), EDITS[name](rng, a)
        copies.append((i, make_example(q, a, tenant=tenant, n=n + j), names))
    others = [make_example(q, a, tenant=tenant, n=2 * n + j) for j, (q, a) in enumerate(fresh)]
    half = sample // 2
    sample_queries = [c for _, c, _ in copies[:half]] + others[: sample - min(half, len(copies))]
    brute = _BruteForce([dedup_text(e) for e in sample_queries])

    hasher = NearDuplicateIndex(threshold).hasher
    exact = np.zeros(n, dtype=np.uint64)
    bands = np.zeros((n, hasher.bands), dtype=np.uint64)
    ids: list[str] = []
    tick = progress("keys + exact scan", n) if progress else None
    started = time.perf_counter()
    for i, ((q, a), text) in enumerate(zip(background, texts, strict=True)):
        norm = normalise_text(text)
        shingles = shingle_hashes(norm)
        exact[i] = int.from_bytes(hashlib.blake2b(norm.encode(), digest_size=8).digest(), "big")
        bands[i] = hasher.band_keys(hasher.signature(shingles))
        brute.update(shingles)
        ids.append(example_id(tenant=tenant, kind=ExampleKind.SFT, messages=_messages(q, a)))
        if tick and i % 1000 == 999:
            tick(1000)
    keys_per_s = n / (time.perf_counter() - started)
    if tick:
        tick(n % 1000)

    def rows() -> Iterator[DedupRow]:
        for i in range(n):
            yield DedupRow(tenant, ids[i], encode_signature(int(exact[i]), bands[i]))

    gc.collect()
    index = NearDuplicateIndex(threshold)
    rss_before = rss_bytes()
    started = time.perf_counter()
    index.rebuild(rows())
    rebuild_s = time.perf_counter() - started
    gc.collect()
    rss_delta = rss_bytes() - rss_before
    nbytes = index.nbytes()
    del index
    gc.collect()
    traced_index = NearDuplicateIndex(threshold)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    traced_index.rebuild(rows())
    traced_index.nbytes()  # flushes buffers, as the first index was
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    index = traced_index

    # The store, simulated: texts by id prefix, as ExampleStore.dedup_texts answers.
    order = sorted(range(n), key=ids.__getitem__)
    sorted_ids = [ids[i] for i in order]
    added: dict[str, list[str]] = {}

    def fetch(_tenant: str, prefixes: list[str]) -> list[str]:
        out: list[str] = []
        for p in prefixes:
            k = bisect.bisect_left(sorted_ids, p)
            while k < n and sorted_ids[k].startswith(p):
                out.append(texts[order[k]])
                k += 1
            out += added.get(p, [])
        return out

    def check(example: Example) -> bool:
        reason, _ = index.check_and_sign(example, fetch)
        if reason is None:  # kept: the curator would store it
            added.setdefault(example.id[:8], []).append(dedup_text(example))
        index.forget_recent()
        return reason is not None

    flagged: dict[str, bool] = {}
    exact_planted = 0
    tick = progress("queries", len(copies) + len(others)) if progress else None
    started = time.perf_counter()
    for i, copy, _ in copies:
        # An edit that changed nothing leaves the content hash equal: the store's DUPLICATE.
        flagged[copy.id] = copy.id == ids[i] or check(copy)
        mine = set(shingle_hashes(normalise_text(dedup_text(copy))).tolist())
        theirs = set(shingle_hashes(normalise_text(texts[i])).tolist())
        exact_planted += len(mine & theirs) >= threshold * len(mine | theirs)
        if tick:
            tick(1)
    for other in others:
        flagged[other.id] = check(other)
        if tick:
            tick(1)
    checks_per_s = (len(copies) + len(others)) / (time.perf_counter() - started)
    truth = brute.best >= threshold
    said = np.array([flagged[e.id] for e in sample_queries], dtype=bool)
    return ScaleReport(
        examples=n,
        nbytes=nbytes,
        traced_bytes=traced,
        rss_bytes=rss_delta,
        rebuild_s=rebuild_s,
        keys_per_s=keys_per_s,
        planted=len(copies),
        flagged_planted=sum(flagged[c.id] for _, c, _ in copies),
        exact_planted=exact_planted,
        heldout=len(others),
        flagged_heldout=sum(flagged[e.id] for e in others),
        sample=len(sample_queries),
        sample_exact=int(truth.sum()),
        sample_index=int(said.sum()),
        sample_both=int((truth & said).sum()),
        checks_per_s=checks_per_s,
        threshold=threshold,
    )


def _messages(question: str, answer: str) -> list[ChatMessage]:
    return [
        ChatMessage(role=Role.USER, content=question),
        ChatMessage(role=Role.ASSISTANT, content=answer),
    ]


def _sft_text(question: str, answer: str) -> str:
    return dedup_text_of(ExampleKind.SFT, _messages(question, answer), None, None)


def run(
    sizes: list[int],
    *,
    planted: int,
    heldout: int,
    sample: int,
    seed: int,
    threshold: float,
    command: str,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> BenchResult:
    """``winnow bench dedup``: one :class:`ScaleReport` per size, as figures and a table."""
    machine = machine_info()
    reports = [
        measure_scale(
            n,
            planted=planted,
            heldout=heldout,
            sample=sample,
            seed=seed,
            threshold=threshold,
            progress=progress,
        )
        for n in sizes
    ]
    figures: list[Figure] = []
    per_example = Goal(100, at_least=False, unit="B")
    for r in reports:
        arrays = r.nbytes / r.examples
        figures += [
            Figure(f"index arrays per example, {r.examples:,}", arrays, "B", goal=per_example),
            Figure(
                f"tracemalloc per example, {r.examples:,}",
                r.traced_bytes / r.examples,
                "B",
                arrays,
                "the arrays alone",
                per_example,
            ),
            Figure(
                f"RSS growth per example, {r.examples:,}",
                r.rss_bytes / r.examples,
                "B",
                arrays,
                "the arrays alone",
            ),
            Figure(
                f"recall on planted copies, {r.examples:,}",
                r.recall,
                "",
                r.exact_recall,
                "exact Jaccard with the original",
                Goal(0.95),
            ),
            Figure(
                f"recall vs brute-force exact scan, sample, {r.examples:,}",
                r.recall_vs_exact,
                "",
                1.0,
                "brute-force exact scan",
                Goal(0.95),
            ),
            Figure(
                f"precision vs brute-force exact scan, sample, {r.examples:,}",
                r.precision_vs_exact,
                "",
                1.0,
                "brute-force exact scan",
                Goal(0.99),
            ),
        ]
    table = [
        "| indexed | arrays B/ex | tracemalloc B/ex | RSS B/ex | rebuild s | keys/s | planted"
        " | flagged | exact >= t | held-out | flagged | sample | exact scan dups | index dups"
        " | both | checks/s |",
        "|" + "---:|" * 16,
    ]
    for r in reports:
        table.append(
            f"| {r.examples:,} | {r.nbytes / r.examples:.1f} | {r.traced_bytes / r.examples:.1f}"
            f" | {r.rss_bytes / r.examples:.1f} | {r.rebuild_s:.2f} | {r.keys_per_s:,.0f}"
            f" | {r.planted} | {r.flagged_planted} | {r.exact_planted} | {r.heldout}"
            f" | {r.flagged_heldout} | {r.sample} | {r.sample_exact} | {r.sample_index}"
            f" | {r.sample_both} | {r.checks_per_s:,.0f} |"
        )
    notes = [
        "Texts: real Bitext and schema-guided-dialogue Q&A (~5,300 pairs), then recombined"
        " pairs (a real question, 2-5 real answer sentences; `winnow.bench.corpus`).",
        f"Planted copies get one or two edits (typos, casing, punctuation, reordered sentences,"
        f" other PII values); threshold {threshold} (Jaccard of 5-character shingles).",
        "The index is rebuilt from stored keys (`NearDuplicateIndex.rebuild`, as a curator does"
        " on start); checks verify candidates against text fetched by id prefix from an"
        " in-memory copy of the store.",
        "Ceilings: for recall, exact Jaccard of each copy with its own original; on the sample"
        " (half copies, half held-out texts), a brute-force exact scan over every indexed text.",
    ]
    return BenchResult(
        name="dedup",
        command=command,
        machine=machine,
        figures=figures,
        tables=["\n".join(table)],
        notes=notes,
        data={"reports": reports},
        plot=_plot,
    ).finish()


def _plot(result: BenchResult) -> PlotFigure:
    import matplotlib.pyplot as plt

    reports: list[ScaleReport] = result.data["reports"]  # type: ignore[assignment]
    labels = [f"{r.examples:,}" for r in reports]
    x = np.arange(len(reports))
    fig, (mem, rec) = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.27
    mem.bar(x - width, [r.nbytes / r.examples for r in reports], width, label="arrays")
    mem.bar(x, [r.traced_bytes / r.examples for r in reports], width, label="tracemalloc")
    mem.bar(x + width, [r.rss_bytes / r.examples for r in reports], width, label="RSS growth")
    mem.axhline(100, color="grey", linestyle="--", linewidth=1, label="goal 100 B")
    mem.set(xticks=x, xticklabels=labels, xlabel="indexed examples", ylabel="bytes per example")
    tallest = max([100.0, *(r.rss_bytes / r.examples for r in reports)])
    mem.set_ylim(0, tallest * 1.4)  # room for the legend above the bars
    mem.legend(loc="upper left", ncol=2)
    rec.bar(x - width / 2, [r.recall for r in reports], width, label="index recall")
    rec.bar(x + width / 2, [r.exact_recall for r in reports], width, label="exact (ceiling)")
    rec.axhline(0.95, color="grey", linestyle="--", linewidth=1, label="goal 0.95")
    rec.set(xticks=x, xticklabels=labels, xlabel="indexed examples", ylabel="recall")
    rec.set_ylim(0, 1.4)  # room for the legend above the bars
    rec.legend(loc="upper left", ncol=2)
    fig.suptitle("winnow bench dedup: NearDuplicateIndex memory and recall")
    return fig
