"""``winnow bench dedup``'s peer column: Winnow's index against rensa and datasketch, same texts.

Each system indexes the same ``n`` texts, then checks the same queries (edited copies of indexed
texts and new texts) one at a time, as a curator does: a query is a duplicate when a candidate's
exact shingle Jaccard reaches the threshold (every system verifies its candidates exactly, against
text held in memory), and a kept query is added to the index. Ground truth is a brute-force exact
scan of every query over all ``n`` indexed texts. Peers use their libraries' usual set-up: rensa
``RMinHash`` + ``RMinHashLSH`` (128 permutations, 16 bands of 8), datasketch ``MinHash`` +
``MinHashLSH`` (121 permutations, 11 bands of 11), over the same normalised 5-character shingles.
Memory is the process's RSS growth while the index is built (the only measure that sees Rust).
"""

from __future__ import annotations

import gc
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from winnow.bench.corpus import bench_pairs, make_example
from winnow.bench.dedup import _sft_text
from winnow.bench.edits import EDITS
from winnow.bench.exact_scan import ExactJaccardScan
from winnow.bench.report import BenchResult, Figure, Goal, rss_bytes
from winnow.dedup.index import (
    DedupRow,
    NearDuplicateIndex,
    dedup_text,
    encode_signature,
    normalise_text,
    shingle_hashes,
)

Progress = Callable[[str, int], Callable[[int], None]]
GOAL_SPEED_RATIO = 0.5
GOAL_MEMORY_RATIO = 0.2
EQUAL_QUALITY = (0.95, 0.99)
"""(recall, precision) against the exact scan from which a peer counts as of equal quality."""


class _Exact:
    """Exact shingle Jaccard of a query with indexed texts (shingle sets cached, as Winnow's)."""

    def __init__(self, texts: list[str], threshold: float) -> None:
        self.texts = texts
        self.threshold = threshold
        self.checks = 0
        self._cache: dict[int, frozenset[int]] = {}

    def shingles(self, i: int) -> frozenset[int]:
        found = self._cache.get(i)
        if found is None:
            if len(self._cache) >= 4096:
                self._cache.clear()
            found = frozenset(shingle_hashes(normalise_text(self.texts[i])).tolist())
            self._cache[i] = found
        return found

    def near(self, mine: frozenset[int], i: int) -> bool:
        self.checks += 1
        theirs = self.shingles(i)
        return len(mine & theirs) >= self.threshold * len(mine | theirs)


def _tokens(text: str) -> list[str]:
    norm = normalise_text(text)
    return [norm[i : i + 5] for i in range(max(1, len(norm) - 4))]


class _Peer(Protocol):
    def add(self, key: int, text: str) -> None: ...
    def candidates(self, text: str) -> list[int]: ...


class _Rensa:
    def __init__(self, threshold: float) -> None:
        import rensa

        self._rensa = rensa
        self.lsh = rensa.RMinHashLSH(threshold=threshold, num_perm=128, num_bands=16)
        self._last: tuple[str, Any] | None = None

    def _minhash(self, text: str) -> Any:
        if self._last is not None and self._last[0] is text:
            return self._last[1]  # a kept query: hashed once, for the query and the insert
        m = self._rensa.RMinHash(num_perm=128, seed=1)
        m.update(_tokens(text))
        self._last = (text, m)
        return m

    def add(self, key: int, text: str) -> None:
        self.lsh.insert(key, self._minhash(text))

    def candidates(self, text: str) -> list[int]:
        return list(self.lsh.query(self._minhash(text)))


class _Datasketch:
    def __init__(self, threshold: float) -> None:
        from datasketch import MinHash, MinHashLSH

        self._minhash_cls = MinHash
        self.lsh = MinHashLSH(threshold=threshold, num_perm=121, params=(11, 11))
        self._last: tuple[str, Any] | None = None

    def _minhash(self, text: str) -> Any:
        if self._last is not None and self._last[0] is text:
            return self._last[1]
        m = self._minhash_cls(num_perm=121, seed=1)
        m.update_batch([t.encode() for t in _tokens(text)])
        self._last = (text, m)
        return m

    def add(self, key: int, text: str) -> None:
        self.lsh.insert(key, self._minhash(text))

    def candidates(self, text: str) -> list[int]:
        return list(self.lsh.query(self._minhash(text)))


@dataclass(frozen=True)
class PeerRun:
    """One system on one corpus size."""

    system: str
    indexed: int
    index_s: float
    queries: int
    check_s: float
    exact_checks: int
    index_bytes: int
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def checks_per_s(self) -> float:
        """Queries checked (and kept ones added) per second."""
        return self.queries / self.check_s

    @property
    def bytes_per_text(self) -> float:
        """RSS growth while indexing, per indexed text."""
        return self.index_bytes / self.indexed

    @property
    def recall(self) -> float:
        """Exact-scan duplicates the system flags."""
        found = self.true_positives + self.false_negatives
        return self.true_positives / found if found else 1.0

    @property
    def precision(self) -> float:
        """System flags the exact scan confirms."""
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0


def _corpus(
    n: int, planted: int, heldout: int, seed: int
) -> tuple[list[str], list[str], list[Any]]:
    """(indexed texts, query texts, query examples): copies of ``planted`` texts, new texts."""
    rng = random.Random(seed)
    pairs = bench_pairs(n + heldout, seed)
    rng.shuffle(pairs)
    background, fresh = pairs[:n], pairs[n:]
    queries = []
    for j, i in enumerate(rng.sample(range(n), k=min(planted, n))):
        q, a = background[i]
        for name in rng.sample(sorted(EDITS), k=rng.choice([1, 2])):
            q, a = EDITS[name](rng, q), EDITS[name](rng, a)
        queries.append(make_example(q, a, tenant="bench", n=n + j))
    queries += [make_example(q, a, tenant="bench", n=3 * n + j) for j, (q, a) in enumerate(fresh)]
    texts = [_sft_text(q, a) for q, a in background]
    return texts, [dedup_text(e) for e in queries], queries


def _score(system: str, flagged: list[bool], truth: Any, **timing: Any) -> PeerRun:
    said = np.array(flagged, dtype=bool)
    return PeerRun(
        system=system,
        true_positives=int((said & truth).sum()),
        false_positives=int((said & ~truth).sum()),
        false_negatives=int((~said & truth).sum()),
        **timing,
    )


def _run_winnow(texts: list[str], queries: list[Any], threshold: float, truth: Any) -> PeerRun:
    index = NearDuplicateIndex(threshold)
    started = time.perf_counter()
    # Ids spread like content hashes: the index keys its slots by their first 32 bits.
    ids = [
        hashlib.blake2b(i.to_bytes(8, "big"), digest_size=8).hexdigest() for i in range(len(texts))
    ]
    rows = []
    for i, text in enumerate(texts):
        rows.append(DedupRow("bench", ids[i], encode_signature(*index.hasher.sketch_of(text))))
    sketch_s = time.perf_counter() - started
    # RSS around the rebuild alone, the keys still held: measured after freeing them, the index
    # lands in the freed pages and RSS barely moves (9 B/text in the first run of this bench).
    gc.collect()
    rss = rss_bytes()
    started = time.perf_counter()
    index.rebuild(rows)
    index_s = sketch_s + time.perf_counter() - started
    gc.collect()
    index_bytes = max(rss_bytes() - rss, index.nbytes())
    del rows
    stored: dict[str, list[str]] = {}
    for i, text in enumerate(texts):
        stored.setdefault(ids[i][:8], []).append(text)

    def fetch(_tenant: str, prefixes: list[str]) -> dict[str, list[str]]:
        return {p: stored[p] for p in prefixes if p in stored}

    flagged: list[bool] = []
    started = time.perf_counter()
    for example in queries:
        reason, _ = index.check_and_sign(example, fetch)
        if reason is None:
            stored.setdefault(example.id[:8], []).append(dedup_text(example))
        index.forget_recent()
        flagged.append(reason is not None)
    return _score(
        "Winnow NearDuplicateIndex",
        flagged,
        truth,
        indexed=len(texts),
        index_s=index_s,
        queries=len(queries),
        check_s=time.perf_counter() - started,
        exact_checks=index.exact_checks,
        index_bytes=index_bytes,
    )


def _run_peer(
    system: str, peer: _Peer, texts: list[str], queries: list[str], threshold: float, truth: Any
) -> PeerRun:
    gc.collect()
    rss = rss_bytes()
    started = time.perf_counter()
    for i, text in enumerate(texts):
        peer.add(i, text)
    index_s = time.perf_counter() - started
    gc.collect()
    index_bytes = rss_bytes() - rss
    exact = _Exact(texts + queries, threshold)
    flagged: list[bool] = []
    started = time.perf_counter()
    for j, text in enumerate(queries):
        mine = exact.shingles(len(texts) + j)
        dup = any(exact.near(mine, c) for c in peer.candidates(text))
        if not dup:
            peer.add(len(texts) + j, text)
        flagged.append(dup)
    return _score(
        system,
        flagged,
        truth,
        indexed=len(texts),
        index_s=index_s,
        queries=len(queries),
        check_s=time.perf_counter() - started,
        exact_checks=exact.checks,
        index_bytes=index_bytes,
    )


def compare(
    n: int,
    *,
    planted: int = 2000,
    heldout: int = 2000,
    seed: int = 0,
    threshold: float = 0.75,
    progress: Progress | None = None,
) -> list[PeerRun]:
    """Winnow, rensa and datasketch on the same ``n`` texts and queries (see the module doc)."""
    texts, query_texts, queries = _corpus(n, planted, heldout, seed)
    tick = progress(f"exact scan, {n:,}", n) if progress else None
    brute = ExactJaccardScan(query_texts)
    for i, text in enumerate(texts):
        brute.update(shingle_hashes(normalise_text(text)))
        if tick and i % 1000 == 999:
            tick(1000)
    truth = brute.best >= threshold
    runs = [_run_winnow(texts, queries, threshold, truth)]
    for system, make in (("rensa", _Rensa), ("datasketch", _Datasketch)):
        runs.append(_run_peer(system, make(threshold), texts, query_texts, threshold, truth))
    return runs


def extend(result: BenchResult, comparisons: list[list[PeerRun]]) -> None:
    """Add the peer figures (ceiling: the fastest equal-quality peer), a table and notes."""
    for runs in comparisons:
        winnow, peers = runs[0], runs[1:]
        equal = [p for p in peers if (p.recall, p.precision) >= EQUAL_QUALITY] or peers
        best = max(equal, key=lambda p: p.checks_per_s)
        n = f"{winnow.indexed:,}"
        result.figures += [
            Figure(
                f"checks/s vs peers, {n}",
                winnow.checks_per_s,
                "texts/s",
                best.checks_per_s,
                f"{best.system}, fastest peer of equal quality",
                Goal(GOAL_SPEED_RATIO, on="ratio"),
            ),
            Figure(
                f"index RSS per text vs {best.system}, {n}",
                winnow.bytes_per_text,
                "B",
                best.bytes_per_text,
                best.system,
                Goal(GOAL_MEMORY_RATIO, on="ratio", at_least=False),
            ),
        ]
    table = [
        "| indexed | system | index s | checks/s | exact checks/query | RSS B/text | recall"
        " | precision | TP | FP | FN |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for runs in comparisons:
        for r in runs:
            table.append(
                f"| {r.indexed:,} | {r.system} | {r.index_s:.1f} | {r.checks_per_s:,.0f}"
                f" | {r.exact_checks / r.queries:.2f} | {r.bytes_per_text:,.0f}"
                f" | {r.recall:.4f} | {r.precision:.4f} | {r.true_positives}"
                f" | {r.false_positives} | {r.false_negatives} |"
            )
    result.tables.append("\n".join(table))
    result.notes.append(
        "Peers: every system indexes the same texts, then checks the same queries one by one"
        " (edited copies of indexed texts, then new texts) with exact verification of its"
        " candidates, adding kept ones; recall/precision against a brute-force exact scan of"
        " every query over the indexed texts. rensa: 128 permutations, 16x8 bands; datasketch:"
        " 121 permutations, 11x11 bands; same normalised 5-character shingles. Memory: RSS growth"
        " while indexing. Ceiling: the fastest peer with recall >= 0.95 and precision >= 0.99."
    )
    result.data["peers"] = comparisons
