"""Fault handling without a broker: poison isolation, store-error triage, the commit fence.

The end-to-end proofs (kill -9, outages, SIGTERM, crashes on the real broker) are in
``tests/integration/test_faults.py``; these pin down the pieces they rely on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from tests.integration.fault_filters import POISON_MARKER, MarkerFilter, PoisonError
from tests.integration.helpers import count_rows, fresh_store

from winnow.agents.batches import example_dead_letter
from winnow.agents.config import filter_config
from winnow.agents.curator import is_store_error, write_isolating
from winnow.agents.runtime import WinnowApp, build_app
from winnow.dedup.index import NearDuplicateIndex
from winnow.errors import ConfigurationError
from winnow.example import Decision, Example
from winnow.reasons import DeadLetterReason, DropReason
from winnow.settings import Settings
from winnow.stages.curate import curate_batch, curate_isolating
from winnow.stages.decode import Coordinates
from winnow.stages.filters.base import decide, load_filters
from winnow.stages.filters.basic import EmptyAnswerFilter
from winnow.stages.filters.defaults import default_filters
from winnow.stages.heuristics import score_heuristics
from winnow.stages.validate import validate_record
from winnow.store import ExampleStore
from winnow.store.tables import ExampleRow, RejectionRow
from winnow.testing.fixtures import as_bytes, ticket_event

ANSWERS = [
    "Your parcel was rerouted to the new address and arrives on Friday morning.",
    "I've refunded the second charge; it will be back on your card within five days.",
    "Your password reset link is on the sign-in page under 'Forgot password'.",
]


def _example(answer: str, offset: int = 0) -> Example:
    doc = ticket_event("I need help with my account, please.", answer)
    out = validate_record(as_bytes(doc), Coordinates("t", 0, offset), max_bytes=262_144)
    assert isinstance(out, list)
    return score_heuristics(out[0])


class TestCurateIsolating:
    def test_poison_example_fails_alone_and_the_rest_decide_as_without_it(self) -> None:
        examples = [_example(ANSWERS[0]), _example(f"{ANSWERS[1]} {POISON_MARKER}")]
        examples.append(_example(ANSWERS[2]))
        filters = [*default_filters(filter_config(Settings())), MarkerFilter()]
        decided, sigs, failed = curate_isolating(
            examples, filters, NearDuplicateIndex(), reraise=is_store_error
        )
        assert [(ex.id, type(err)) for ex, err in failed] == [(examples[1].id, PoisonError)]
        # The failed whole-batch run had indexed the first example: no self-duplicate now.
        clean, clean_sigs = curate_batch(
            [examples[0], examples[2]], filters, NearDuplicateIndex(), None
        )
        assert [(e.id, e.decision and e.decision.reasons) for e in decided] == [
            (e.id, e.decision and e.decision.reasons) for e in clean
        ]
        assert sigs == clean_sigs and len(sigs) == 2

    def test_store_errors_propagate_for_a_retry(self) -> None:
        class StoreDown(EmptyAnswerFilter):
            def check(self, example: Example) -> None:
                raise sa_exc.OperationalError("SELECT", {}, ConnectionError("reset"))

        with pytest.raises(sa_exc.OperationalError):
            curate_isolating([_example(ANSWERS[0])], [StoreDown()], None, reraise=is_store_error)


def test_store_errors_are_told_from_record_errors() -> None:
    orig = Exception("boom")
    assert is_store_error(sa_exc.OperationalError("SELECT 1", {}, orig))
    assert is_store_error(sa_exc.InterfaceError("SELECT 1", {}, orig))
    assert is_store_error(ConnectionResetError())
    invalidated = sa_exc.DBAPIError("SELECT 1", {}, orig, connection_invalidated=True)
    assert is_store_error(invalidated)
    assert not is_store_error(sa_exc.DataError("INSERT", {}, orig))
    assert not is_store_error(sa_exc.IntegrityError("INSERT", {}, orig))
    assert not is_store_error(ValueError("a filter bug"))


class TestLoadFilters:
    def test_class_instance_and_factory_paths(self) -> None:
        found = load_filters(
            [
                "winnow.stages.filters.basic:EmptyAnswerFilter",
                "tests.integration.fault_filters:MarkerFilter",
            ]
        )
        assert [type(f) for f in found] == [EmptyAnswerFilter, MarkerFilter]
        settings = Settings(curate_extra_filters=["tests.integration.fault_filters:MarkerFilter"])
        assert isinstance(default_filters(filter_config(settings))[-1], MarkerFilter)

    @pytest.mark.parametrize(
        "path",
        [
            "winnow.stages.filters.base",
            "winnow.stages.nowhere:Filter",
            "winnow.stages.filters.base:Nothing",
            "winnow.stages.filters.base:decide",
        ],
    )
    def test_bad_paths_fail_at_start(self, path: str) -> None:
        with pytest.raises(ConfigurationError, match="filter"):
            load_filters([path])


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[ExampleStore]:
    """The session's PostgreSQL store, migrated and emptied."""
    store = fresh_store(postgres_url)
    yield store
    store.close()


def test_a_row_the_database_refuses_is_isolated(pg_store: ExampleStore) -> None:
    """PostgreSQL refuses NUL in text (DataError): that example alone comes back, not stored."""
    filters = default_filters(filter_config(Settings()))
    good = [decide(_example(a, i), filters) for i, a in enumerate(ANSWERS[:2])]
    bad = decide(_example(ANSWERS[2], 2), filters).model_copy(update={"category": "a\x00b"})
    outcome, refused = write_isolating(pg_store, [good[0], bad, good[1]], {})
    assert [(e.id, type(err)) for e, err in refused] == [(bad.id, sa_exc.DataError)]
    assert [e.id for e in outcome.accepted] == [good[0].id, good[1].id]
    with pg_store.engine.connect() as conn:
        stored = set(conn.execute(select(ExampleRow.id)).scalars())
    assert stored == {good[0].id, good[1].id}


class TestRedeliveryKeepsOneOutcome:
    """A redelivered example keeps its event's first outcome (re-scored copies can differ)."""

    def test_two_copies_of_one_event_in_one_batch(self, pg_store: ExampleStore) -> None:
        ex = decide(_example(ANSWERS[0]), default_filters(filter_config(Settings())))
        outcome = pg_store.write_decisions([ex, ex.model_copy()])
        assert [e.id for e in outcome.accepted] == [ex.id, ex.id] and outcome.rejected == []
        assert count_rows(pg_store, RejectionRow) == 0

    def test_a_redelivery_decided_otherwise_keeps_the_stored_outcome(
        self, pg_store: ExampleStore
    ) -> None:
        accepted = decide(_example(ANSWERS[0]), default_filters(filter_config(Settings())))
        low = Decision(status="rejected", reasons=[DropReason.LOW_REWARD])
        pg_store.write_decisions([accepted])
        again = pg_store.write_decisions([accepted.model_copy(update={"decision": low})])
        assert [e.id for e in again.accepted] == [accepted.id] and again.rejected == []

        rejected = decide(_example(ANSWERS[1], 1), default_filters(filter_config(Settings())))
        pg_store.write_decisions([rejected.model_copy(update={"decision": low})])
        later = pg_store.write_decisions([rejected])
        assert later.accepted == []
        assert [(e.id, e.decision and e.decision.reasons) for e in later.rejected] == [
            (rejected.id, [DropReason.LOW_REWARD])
        ]
        assert (count_rows(pg_store, ExampleRow), count_rows(pg_store, RejectionRow)) == (1, 1)


def test_example_dead_letter_is_keyed_by_event_not_bytes() -> None:
    """A redelivered poison example (new created_at, new scores) lands on the same row."""
    ex = _example(ANSWERS[0])
    again = ex.model_copy(update={"scores": {"reward": 0.5}})
    first = example_dead_letter(ex, "PoisonError: x", stage="curator")
    second = example_dead_letter(again, "PoisonError: x", stage="curator")
    assert first.id == second.id and first.original != second.original
    assert first.reason is DeadLetterReason.PROCESSING_ERROR
    assert (first.event_id, first.tenant) == (ex.source.event_id, ex.tenant)
    other = example_dead_letter(ex, "PoisonError: x", stage="scorer")
    assert other.id != first.id


@pytest.fixture
def app(tmp_path: Path) -> WinnowApp:
    """A curator app, built but not started (no broker)."""
    winnow_app = build_app("curator", Settings(data_dir=tmp_path))
    winnow_app.set_ready("started", True)
    return winnow_app


class TestCommitFence:
    async def test_finished_batch_fences_nothing(self, app: WinnowApp) -> None:
        async with app.batch():
            assert app.batches_in_flight == 1
        assert (app.batches_in_flight, app.commits_fenced, app.crash_cause) == (0, None, None)
        assert app.liveness_problems(stall_s=60) == []

    async def test_exception_in_a_batch_fences_and_fails_liveness(self, app: WinnowApp) -> None:
        with pytest.raises(KeyError):
            async with app.batch():
                raise KeyError("bug")
        assert app.commits_fenced is not None and "KeyError" in app.commits_fenced
        assert app.crash_cause == "KeyError: 'bug'"
        assert app.liveness_problems(stall_s=60) == ["agent crashed: KeyError: 'bug'"]

    async def test_cancelled_by_a_stop_fences_without_a_crash(self, app: WinnowApp) -> None:
        entered = asyncio.Event()

        async def agent() -> None:
            async with app.batch():
                entered.set()
                await asyncio.sleep(60)  # the store is down

        task = asyncio.create_task(agent())
        await entered.wait()
        assert not await app.drain(grace_s=0.05)  # the batch is still in hand
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert app.commits_fenced is not None and app.crash_cause is None
        assert await app.drain(grace_s=0.05)

    async def test_a_batch_stuck_while_ready_fails_liveness(self, app: WinnowApp) -> None:
        async with app.batch():
            await asyncio.sleep(0.01)
            assert app.liveness_problems(stall_s=60) == []
            assert [p[:24] for p in app.liveness_problems(stall_s=0.001)] == [
                "one batch in progress fo"
            ]
            app.set_ready("store", False)  # an outage: waiting is expected, not a hang
            assert app.liveness_problems(stall_s=0.001) == []
