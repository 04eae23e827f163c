"""run_isolating: a whole batch first, then item by item; transient errors are nobody's fault."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from winnow.stages.isolate import run_isolating


class Poison(Exception):
    """An item's own failure."""


class Outage(Exception):
    """A failure no item causes."""


def _double(items: Sequence[int]) -> list[int]:
    if 13 in items:
        raise Poison("13")
    return [2 * i for i in items]


def _flatten(parts: list[list[int]]) -> list[int]:
    return [x for part in parts for x in part]


class TestRunIsolating:
    def test_a_clean_batch_runs_once_whole(self) -> None:
        """Without a failure the batch result comes back as is, with nothing failed."""
        calls: list[list[int]] = []

        def run(items: Sequence[int]) -> list[int]:
            calls.append(list(items))
            return _double(items)

        assert run_isolating([1, 2, 3], run, _flatten) == ([2, 4, 6], [])
        assert calls == [[1, 2, 3]]

    def test_a_poison_item_fails_alone_and_the_rest_keep_their_order(self) -> None:
        """The failing item comes back with its exception; the others are combined in order."""
        seen: list[Exception] = []
        result, failed = run_isolating([1, 13, 3], _double, _flatten, on_batch_failure=seen.append)
        assert result == [2, 6]
        assert [(item, type(exc), str(exc)) for item, exc in failed] == [(13, Poison, "13")]
        assert [type(e) for e in seen] == [Poison]

    def test_a_transient_error_propagates_from_the_batch(self) -> None:
        """An outage is not blamed on an item: it propagates so the caller retries the batch."""

        def down(items: Sequence[int]) -> list[int]:
            raise Outage

        with pytest.raises(Outage):
            run_isolating([1, 2], down, _flatten, transient=lambda e: isinstance(e, Outage))

    def test_a_transient_error_propagates_from_an_item(self) -> None:
        """An outage met while isolating items propagates too, instead of failing that item."""

        def flaky(items: Sequence[int]) -> list[int]:
            if len(items) > 1:
                raise Poison("batch")
            if items[0] == 2:
                raise Outage
            return list(items)

        with pytest.raises(Outage):
            run_isolating([1, 2, 3], flaky, _flatten, transient=lambda e: isinstance(e, Outage))
