"""The curator's stage: filters, then the duplicate index, over one batch in arrival order."""

from __future__ import annotations

from collections.abc import Sequence

from winnow.example import Decision, Example
from winnow.stages.dedup import FetchTexts, NearDuplicateIndex
from winnow.stages.filters import ExampleFilter, decide


def curate_batch(
    examples: Sequence[Example],
    filters: Sequence[ExampleFilter],
    index: NearDuplicateIndex | None,
    fetch: FetchTexts | None = None,
) -> tuple[list[Example], dict[str, bytes]]:
    """Decide every example; accepted ones then meet the duplicate index, in order.

    Returns the decided examples and the dedup signatures of those still accepted, for the store
    (from which a restarted or rebalanced curator rebuilds its index). ``fetch`` reads stored
    candidates' text so near duplicates are confirmed by exact Jaccard similarity.
    """
    decided: list[Example] = []
    signatures: dict[str, bytes] = {}
    for example in examples:
        ex = decide(example, filters)
        if index is not None and ex.decision is not None and ex.decision.status == "accepted":
            reason, signature = index.check_and_sign(ex, fetch)
            if reason is not None:
                ex = ex.model_copy(
                    update={"decision": Decision(status="rejected", reasons=[reason])}
                )
            elif signature is not None:
                signatures[ex.id] = signature
        decided.append(ex)
    return decided, signatures
