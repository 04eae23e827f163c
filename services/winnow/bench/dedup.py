"""``winnow bench dedup``: the near-duplicate index at 100k and 1M examples, against exact search.

Memory per example (the index's arrays, tracemalloc, RSS growth), rebuild time, and recall and
precision against a brute-force exact Jaccard scan. The planted-copy precision/recall at a few
thousand real originals is ``winnow.bench.dedup_quality``.
"""

from __future__ import annotations

import bisect
import gc
import random
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from winnow.bench.corpus import bench_pairs, make_example
from winnow.bench.edits import EDITS
from winnow.bench.exact_scan import ExactJaccardScan
from winnow.bench.report import BenchResult, Figure, Goal, machine_info, rss_bytes
from winnow.dedup.batch import signatures_of
from winnow.dedup.index import (
    DedupRow,
    NearDuplicateIndex,
    dedup_text,
    dedup_text_of,
    normalise_text,
    shingle_hashes,
)
from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, example_id

if TYPE_CHECKING:
    from matplotlib.figure import Figure as PlotFigure

Progress = Callable[[str, int], Callable[[int], None]]
"""``progress(label, total)`` returns a callback taking the number of items just done."""


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


@dataclass
class _Queries:
    """The planted copies (with the index of their original) and held-out texts to check."""

    copies: list[tuple[int, Example, list[str]]]
    others: list[Example]
    sample: list[Example]
    """Half copies, half held-out: checked against the brute-force exact scan too."""


def _plant(
    rng: random.Random,
    background: list[tuple[str, str]],
    fresh: list[tuple[str, str]],
    *,
    planted: int,
    sample: int,
    tenant: str,
) -> _Queries:
    """Edited copies of ``planted`` background texts, the held-out texts, and the sample."""
    n = len(background)
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
    return _Queries(copies, others, sample_queries)


@dataclass
class _Keys:
    """Every indexed text's ``dedup_sig`` (exact key, band keys, b-bit sketch) and example id,
    as the store holds them."""

    sigs: list[bytes]
    ids: list[str]
    keys_per_s: float


def _compute_keys(
    background: list[tuple[str, str]],
    texts: list[str],
    threshold: float,
    brute: ExactJaccardScan,
    tenant: str,
    progress: Progress | None,
) -> _Keys:
    """The indexed texts' signatures (in bulk, byte-identical to the curator's), and the
    brute-force scan over every text on the way."""
    n = len(background)
    hasher = NearDuplicateIndex(threshold).hasher
    tick = progress("keys + exact scan", 2 * n) if progress else None
    started = time.perf_counter()
    sigs: list[bytes] = []
    for start in range(0, n, 1000):
        sigs += signatures_of(hasher, texts[start : start + 1000])
        if tick:
            tick(min(1000, n - start))
    keys_per_s = n / (time.perf_counter() - started)
    ids = [
        example_id(tenant=tenant, kind=ExampleKind.SFT, messages=_messages(q, a))
        for q, a in background
    ]
    for i, text in enumerate(texts):
        brute.update(shingle_hashes(normalise_text(text)))
        if tick and i % 1000 == 999:
            tick(1000)
    if tick:
        tick(n % 1000)
    return _Keys(sigs, ids, keys_per_s)


@dataclass
class _Rebuilt:
    """The index rebuilt from stored keys, and what the rebuild cost."""

    index: NearDuplicateIndex
    rebuild_s: float
    rss_bytes: int
    nbytes: int
    traced_bytes: int


def _rebuild(keys: _Keys, threshold: float, tenant: str) -> _Rebuilt:
    """Rebuild twice from the keys: once timed with RSS, once under tracemalloc (kept)."""

    def rows() -> Iterator[DedupRow]:
        for i in range(len(keys.ids)):
            yield DedupRow(tenant, keys.ids[i], keys.sigs[i])

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
    return _Rebuilt(traced_index, rebuild_s, rss_delta, nbytes, traced)


def _store_fetch(
    ids: list[str], texts: list[str], added: dict[str, list[str]]
) -> Callable[[str, list[str]], dict[str, list[str]]]:
    """The store, simulated: texts by id prefix, as ExampleStore.dedup_texts answers."""
    n = len(ids)
    order = sorted(range(n), key=ids.__getitem__)
    sorted_ids = [ids[i] for i in order]

    def fetch(_tenant: str, prefixes: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in prefixes:
            k = bisect.bisect_left(sorted_ids, p)
            while k < n and sorted_ids[k].startswith(p):
                out.setdefault(p, []).append(texts[order[k]])
                k += 1
            if p in added:
                out.setdefault(p, []).extend(added[p])
        return out

    return fetch


def _check_queries(
    index: NearDuplicateIndex,
    keys: _Keys,
    texts: list[str],
    queries: _Queries,
    threshold: float,
    progress: Progress | None,
) -> tuple[dict[str, bool], int, float]:
    """Check every copy and held-out text: ``(flagged by id, exact_planted, checks_per_s)``."""
    ids = keys.ids
    added: dict[str, list[str]] = {}
    fetch = _store_fetch(ids, texts, added)

    def check(example: Example) -> bool:
        reason, _ = index.check_and_sign(example, fetch)
        if reason is None:  # kept: the curator would store it
            added.setdefault(example.id[:8], []).append(dedup_text(example))
        index.forget_recent()
        return reason is not None

    flagged: dict[str, bool] = {}
    exact_planted = 0
    copies, others = queries.copies, queries.others
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
    return flagged, exact_planted, checks_per_s


def measure_scale(
    n: int,
    *,
    planted: int = 2000,
    heldout: int = 2000,
    sample: int = 200,
    seed: int = 0,
    threshold: float = 0.75,
    progress: Progress | None = None,
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
    queries = _plant(rng, background, fresh, planted=planted, sample=sample, tenant=tenant)
    brute = ExactJaccardScan([dedup_text(e) for e in queries.sample])
    keys = _compute_keys(background, texts, threshold, brute, tenant, progress)
    rebuilt = _rebuild(keys, threshold, tenant)
    flagged, exact_planted, checks_per_s = _check_queries(
        rebuilt.index, keys, texts, queries, threshold, progress
    )
    truth = brute.best >= threshold
    said = np.array([flagged[e.id] for e in queries.sample], dtype=bool)
    return ScaleReport(
        examples=n,
        nbytes=rebuilt.nbytes,
        traced_bytes=rebuilt.traced_bytes,
        rss_bytes=rebuilt.rss_bytes,
        rebuild_s=rebuilt.rebuild_s,
        keys_per_s=keys.keys_per_s,
        planted=len(queries.copies),
        flagged_planted=sum(flagged[c.id] for _, c, _ in queries.copies),
        exact_planted=exact_planted,
        heldout=len(queries.others),
        flagged_heldout=sum(flagged[e.id] for e in queries.others),
        sample=len(queries.sample),
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
    progress: Progress | None = None,
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
    return BenchResult(
        name="dedup",
        command=command,
        machine=machine,
        figures=[f for r in reports for f in _figures(r)],
        tables=[_table(reports)],
        notes=_notes(threshold),
        data={"reports": reports},
        plot=_plot,
    ).finish()


def _figures(r: ScaleReport) -> list[Figure]:
    """One size's figures, each beside its ceiling."""
    per_example = Goal(150, at_least=False, unit="B")
    arrays = r.nbytes / r.examples
    return [
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


def _table(reports: list[ScaleReport]) -> str:
    """Every size's raw counts as one Markdown table."""
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
    return "\n".join(table)


def _notes(threshold: float) -> list[str]:
    return [
        "Texts: real Bitext and schema-guided-dialogue Q&A (~5,300 pairs), then recombined"
        " pairs (a real question, 2-5 real answer sentences; `winnow.bench.corpus`).",
        f"Planted copies get one or two edits (typos, casing, punctuation, reordered sentences,"
        f" other PII values); threshold {threshold} (Jaccard of 5-character shingles).",
        "The index is rebuilt from stored keys and sketches (`dedup_sig` as the curator stores"
        " it, computed in bulk by `winnow.dedup.batch`; keys/s is that rate), as a curator does"
        " on start (`NearDuplicateIndex.rebuild`); checks verify candidates against text"
        " fetched by id prefix from an in-memory copy of the store.",
        "Ceilings: for recall, exact Jaccard of each copy with its own original; on the sample"
        " (half copies, half held-out texts), a brute-force exact scan over every indexed text.",
    ]


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
    mem.axhline(150, color="grey", linestyle="--", linewidth=1, label="goal 150 B")
    mem.set(xticks=x, xticklabels=labels, xlabel="indexed examples", ylabel="bytes per example")
    tallest = max([150.0, *(r.rss_bytes / r.examples for r in reports)])
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
