"""Run a step on a whole batch; when that fails, run it on each item alone to find the bad ones.

One helper for every stage and store write that works batch-wise: a batch is fast, and a bad item
(a filter that raises on odd input, a row the database refuses) must fail alone, not take its
batch with it. Errors that no item causes (the store being down) are ``transient``: they
propagate, so the caller retries the whole batch instead of blaming an item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _never(_: Exception) -> bool:
    return False


def run_isolating(
    batch: Sequence[T],
    run: Callable[[Sequence[T]], R],
    combine: Callable[[list[R]], R],
    *,
    transient: Callable[[Exception], bool] = _never,
    on_batch_failure: Callable[[Exception], None] | None = None,
) -> tuple[R, list[tuple[T, Exception]]]:
    """``run(batch)``; if it raises, ``run([item])`` for each item, in order, and ``combine``.

    Returns the result and the items that raised on their own, with their exception. An
    exception ``transient`` accepts propagates at once, from the batch or from an item.
    ``on_batch_failure`` is called inside the ``except`` block, so it may log the traceback.
    """
    try:
        return run(batch), []
    except Exception as exc:
        if transient(exc):
            raise
        if on_batch_failure is not None:
            on_batch_failure(exc)
    results: list[R] = []
    failed: list[tuple[T, Exception]] = []
    for item in batch:
        try:
            results.append(run([item]))
        except Exception as exc:
            if transient(exc):
                raise
            failed.append((item, exc))
    return combine(results), failed
