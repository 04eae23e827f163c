"""The curator's stage: filters, then the duplicate index, over one batch in arrival order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from winnow.dedup.index import FetchTexts, NearDuplicateIndex
from winnow.example import Decision, Example
from winnow.stages.filters.base import ExampleFilter, decide
from winnow.stages.isolate import run_isolating

Curated = tuple[list[Example], dict[str, bytes]]
"""Decided examples, and the dedup signatures of those still accepted."""


def curate_batch(
    examples: Sequence[Example],
    filters: Sequence[ExampleFilter],
    index: NearDuplicateIndex | None,
    fetch: FetchTexts | None = None,
) -> Curated:
    """Decide every example; accepted ones then meet the duplicate index, in order.

    Returns the decided examples and the dedup signatures of those still accepted, for the store
    (from which a restarted or rebalanced curator rebuilds its index). ``fetch`` reads stored
    candidates' text so near duplicates are confirmed by exact Jaccard similarity: the whole
    batch's in one read (:meth:`NearDuplicateIndex.prefetch`), before the first check.
    """
    filtered = [decide(example, filters) for example in examples]
    if index is not None and fetch is not None:
        index.prefetch([e for e in filtered if _accepted(e)], fetch)
    decided: list[Example] = []
    signatures: dict[str, bytes] = {}
    for ex in filtered:
        if index is not None and _accepted(ex):
            reason, signature = index.check_and_sign(ex, fetch)
            if reason is not None:
                ex = ex.model_copy(
                    update={"decision": Decision(status="rejected", reasons=[reason])}
                )
            elif signature is not None:
                signatures[ex.id] = signature
        decided.append(ex)
    return decided, signatures


def _accepted(example: Example) -> bool:
    return example.decision is not None and example.decision.status == "accepted"


def _merge(parts: list[Curated]) -> Curated:
    decided: list[Example] = []
    signatures: dict[str, bytes] = {}
    for one, sig in parts:
        decided += one
        signatures.update(sig)
    return decided, signatures


def curate_isolating(
    examples: Sequence[Example],
    filters: Sequence[ExampleFilter],
    index: NearDuplicateIndex | None,
    fetch: FetchTexts | None = None,
    *,
    reraise: Callable[[Exception], bool] = lambda _: False,
) -> tuple[list[Example], dict[str, bytes], list[tuple[Example, Exception]]]:
    """:func:`curate_batch`, except that examples on which it raises are returned apart.

    The batch runs whole; if it raises, each example runs alone, in the same order, so one
    poison example (a filter that raises on odd input) fails alone and the rest are decided as
    they would have been. Exceptions ``reraise`` accepts (the store's, which no example causes)
    propagate instead. Rerunning is safe: an example already added to ``index`` by the failed
    run is not its own duplicate.
    """
    (decided, signatures), failed = run_isolating(
        examples,
        lambda batch: curate_batch(batch, filters, index, fetch),
        _merge,
        transient=reraise,
    )
    return decided, signatures, failed
