"""The curator's batch with the shared duplicate index (``WINNOW_DEDUP_SHARED``, PostgreSQL).

Several replicas curate one tenant; ``winnow.store.dedup_shared`` keeps their indexes exact. The
batch runs in two phases so that replicas wait for each other only where they could collide:

1. Without locks: every filter, and the MinHash sketch of each example the filters accept (the
   per-example CPU: language detection, quality checks, shingling).
2. Holding the advisory locks of those examples' band and exact keys, with the index caught up
   on the other replicas' rows: the duplicate checks (sketch estimates, rare exact checks), then
   the store write. The lock transaction commits after the write, so a replica that takes one of
   these keys next sees this batch's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from winnow.dedup.index import U8, U64, MinHasher, NearDuplicateIndex, dedup_text
from winnow.example import Example
from winnow.stages.curate import curate_isolating
from winnow.stages.filters.base import ExampleFilter
from winnow.store import ExampleStore
from winnow.store.dedup_shared import KeySet, SharedDedup
from winnow.store.store import WriteOutcome

Failed = list[tuple[Example, Exception]]
Write = Callable[[list[Example], dict[str, bytes]], tuple[WriteOutcome, Failed]]


@dataclass(frozen=True)
class _MemoHasher(MinHasher):
    """A :class:`MinHasher` that returns a sketch computed ahead once (phase 1 -> phase 2)."""

    memo: dict[str, tuple[int, U64, U8]] = field(default_factory=dict, compare=False)

    def sketch_of(self, text: str) -> tuple[int, U64, U8]:
        """The memoised sketch of ``text`` (used once), else a fresh one."""
        found = self.memo.pop(text, None)
        return found if found is not None else super().sketch_of(text)

    def precompute(self, text: str) -> tuple[int, U64, U8]:
        """Sketch ``text`` now and keep it for the next :meth:`sketch_of` of the same text."""
        found = self.memo[text] = super().sketch_of(text)
        return found


def _memo_hasher(index: NearDuplicateIndex) -> _MemoHasher:
    if not isinstance(index.hasher, _MemoHasher):
        h = index.hasher
        index.hasher = _MemoHasher(bands=h.bands, rows=h.rows, seed=h.seed)
    return index.hasher


@dataclass
class SharedBatch:
    """What one shared-index batch did."""

    outcome: WriteOutcome
    failed: Failed = field(default_factory=list)
    """Examples that raised alone in a filter or the duplicate check."""
    refused: Failed = field(default_factory=list)
    """Examples whose rows the store refused alone."""


def _accepted(example: Example) -> bool:
    return example.decision is not None and example.decision.status == "accepted"


def curate_and_write_shared(
    shared: SharedDedup,
    index: NearDuplicateIndex,
    store: ExampleStore,
    filters: Sequence[ExampleFilter],
    examples: Sequence[Example],
    *,
    write: Write,
    reraise: Callable[[Exception], bool],
) -> SharedBatch:
    """Curate and store one batch with the shared index (synchronous: run it in a thread).

    ``write`` stores decided examples with their signatures (the curator's
    ``write_isolating``); ``reraise`` tells store errors, which propagate for a retry of the
    whole batch (the index is then rebuilt first), from an example's own errors.
    """
    if shared.stale:
        shared.rebuild(index, store.iter_dedup_signatures())
    hasher = _memo_hasher(index)
    hasher.memo.clear()
    decided, _, failed = curate_isolating(examples, filters, None, reraise=reraise)
    candidates = [e for e in decided if _accepted(e)]
    keys: list[KeySet] = []
    for ex in candidates:
        exact, bands, _ = hasher.precompute(dedup_text(ex))
        keys.append((ex.tenant, exact, bands.tolist()))
    with shared.locked(index, keys):
        checked, signatures, dup_failed = curate_isolating(
            candidates, [], index, store.dedup_texts, reraise=reraise
        )
        failed += dup_failed
        gone = {id(e) for e, _ in dup_failed}
        final = _in_order(decided, candidates, checked, gone)
        outcome, refused = write(final, signatures)
    index.forget_recent()
    if refused:
        shared.stale = True  # indexed as accepted, never stored: rebuild before the next batch
    return SharedBatch(outcome, failed, refused)


def _in_order(
    decided: list[Example], candidates: list[Example], checked: list[Example], gone: set[int]
) -> list[Example]:
    """``decided`` with each duplicate-checked candidate replaced by its checked copy."""
    survivors = iter(checked)
    out: list[Example] = []
    chosen = {id(c) for c in candidates}
    for ex in decided:
        if id(ex) not in chosen:
            out.append(ex)
        elif id(ex) not in gone:
            out.append(next(survivors))
    return out
