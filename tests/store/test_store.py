"""The store: idempotent writes, duplicates decided by the database, per-event tallies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text
from tests.conversations import as_ticket_event, dialogue

from winnow.agents.config import filter_config
from winnow.demo.generator import EventGenerator
from winnow.events import SOURCE_EVENT_ADAPTER, DeadLetter
from winnow.example import Example, TurnScore
from winnow.reasons import DeadLetterReason, DropReason
from winnow.settings import Settings
from winnow.stages.decode import Coordinates, dead_letter, decode_event
from winnow.stages.filters.base import decide
from winnow.stages.filters.defaults import default_filters
from winnow.stages.heuristics import score_heuristics
from winnow.stages.normalise import event_to_examples
from winnow.stages.validate import validate_record
from winnow.store import ExampleStore
from winnow.store.migrate import is_current, upgrade
from winnow.store.queries import ExampleQuery, iter_examples
from winnow.store.store import COPY_MIN_ROWS
from winnow.store.tables import DeadLetterRow, ExampleRow, RejectionRow
from winnow.testing.fixtures import feedback_event, ticket_event

ANSWER = "Your parcel was rerouted to the new address and arrives on Friday morning."


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[ExampleStore]:
    """A migrated, empty store on each backend."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    s = ExampleStore(url)
    with s.engine.begin() as conn:
        conn.execute(text("DELETE FROM examples"))
        conn.execute(text("DELETE FROM rejections"))
        conn.execute(text("DELETE FROM dead_letters"))
    yield s
    s.close()


def _decided(doc: dict, offset: int = 0) -> list[Example]:  # type: ignore[type-arg]
    event = SOURCE_EVENT_ADAPTER.validate_python(doc)
    filters = default_filters(filter_config(Settings()))
    return [
        decide(score_heuristics(e), filters)
        for e in event_to_examples(event, Coordinates("t", 0, offset))
    ]


def _count(store: ExampleStore, table: type) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


class TestWrites:
    def test_migrations_are_current(self, store: ExampleStore) -> None:
        """After upgrade the database is at the newest revision."""
        assert is_current(store.url)

    def test_replayed_batch_changes_nothing(self, store: ExampleStore) -> None:
        """The same decided batch written twice stores each row once, with the same outcome."""
        batch = _decided(ticket_event("Where is my parcel?", ANSWER)) + _decided(
            ticket_event("Where is my parcel?", "ok")
        )
        first = store.write_decisions(batch)
        second = store.write_decisions(batch)
        assert [e.id for e in first.accepted] == [e.id for e in second.accepted] == [batch[0].id]
        assert len(first.rejected) == len(second.rejected) == 1
        assert _count(store, ExampleRow) == 1 and _count(store, RejectionRow) == 1

    def test_copy_from_another_event_is_a_duplicate(self, store: ExampleStore) -> None:
        """Equal content from a second event, in the batch or later, is rejected as duplicate."""
        a = _decided(ticket_event("Where is my parcel?", ANSWER))
        b = _decided(ticket_event("Where is my parcel?", ANSWER))
        c = _decided(ticket_event("Where is my parcel?", ANSWER))
        out = store.write_decisions(a + b)
        assert [e.source.event_id for e in out.accepted] == [a[0].source.event_id]
        [dup] = out.rejected
        assert dup.source.event_id == b[0].source.event_id
        assert dup.decision is not None and dup.decision.reasons == [DropReason.DUPLICATE]
        later = store.write_decisions(c)
        assert later.accepted == [] and later.rejected[0].decision.reasons == [DropReason.DUPLICATE]  # type: ignore[union-attr]
        assert _count(store, ExampleRow) == 1 and _count(store, RejectionRow) == 2

    def test_batch_past_the_copy_size_round_trips_and_replays(self, store: ExampleStore) -> None:
        """A batch big enough for COPY on PostgreSQL stores every row with its messages, scores
        and dedup bytes; replayed, nothing changes; a copy from another event is a duplicate."""
        batch: list[Example] = []
        for i in range(3 * COPY_MIN_ROWS):
            doc = ticket_event(f"Where is parcel {i}? It is late.", f"{ANSWER} Reference {i}.")
            batch += _decided(doc, offset=i)
        batch += _decided(ticket_event("Where is my parcel?", "ok"))  # one rejection
        sigs = {e.id: bytes([i]) * 128 for i, e in enumerate(batch)}
        first = store.write_decisions(batch, sigs)
        assert len(first.accepted) == 3 * COPY_MIN_ROWS and len(first.rejected) == 1
        again = store.write_decisions(batch, sigs)
        assert [e.id for e in again.accepted] == [e.id for e in first.accepted]
        copy = _decided(ticket_event("Where is parcel 0? It is late.", f"{ANSWER} Reference 0."))
        [dup] = store.write_decisions(copy * COPY_MIN_ROWS).rejected[:1]
        assert dup.decision is not None and dup.decision.reasons == [DropReason.DUPLICATE]
        assert _count(store, ExampleRow) == 3 * COPY_MIN_ROWS and _count(store, RejectionRow) == 2
        with store.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(ExampleRow)).all()}
        for ex in first.accepted:
            row = rows[ex.id]
            assert bytes(row.dedup_sig) == sigs[ex.id]
            assert row.messages == [m.model_dump(mode="json") for m in ex.messages]
            assert row.scores == ex.scores and row.source_event_id == ex.source.event_id

    def test_row_stored_between_lookup_and_copy_is_a_duplicate(
        self, store: ExampleStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Another writer (a second curator replica) stores the same contents after this batch
        looked its keys up: the direct COPY fails on the key, the batch is redone with ON
        CONFLICT, and every copy becomes a duplicate of the rival's rows."""
        if store.engine.dialect.name != "postgresql":
            pytest.skip("the direct COPY is PostgreSQL's")
        mine: list[Example] = []
        rival: list[Example] = []
        for i in range(2 * COPY_MIN_ROWS):
            question, answer = f"Where is parcel {i}? It is late.", f"{ANSWER} Reference {i}."
            mine += _decided(ticket_event(question, answer), offset=i)
            rival += _decided(ticket_event(question, answer), offset=100 + i)  # other events
        other = ExampleStore(store.url)
        real = ExampleStore._sticky_decisions
        raced: list[bool] = []
        lookups: list[bool] = []

        def racing(self: ExampleStore, conn: Any, examples: Any) -> Any:
            found = real(self, conn, examples)
            if self is store:
                lookups.append(True)
            if not raced:  # the rival commits between this batch's look-up and its COPY
                raced.append(True)
                other.write_decisions(rival)
            return found

        monkeypatch.setattr(ExampleStore, "_sticky_decisions", racing)
        out = store.write_decisions(mine)
        other.close()
        assert len(lookups) == 2  # the direct COPY failed; the batch was redone
        assert out.accepted == [] and len(out.rejected) == len(mine)
        assert {r for e in out.rejected for r in e.decision.reasons} == {DropReason.DUPLICATE}  # type: ignore[union-attr]
        assert _count(store, ExampleRow) == len(rival) and _count(store, RejectionRow) == len(mine)

    def test_rows_hold_messages_provenance_and_reasons(self, store: ExampleStore) -> None:
        """Stored rows carry the chat messages, the provenance, the source and the reasons."""
        pref = _decided(
            feedback_event(
                "Reset?", "No idea.", thumb="down", correction="Click 'Forgot password'."
            )
        )
        short = _decided(ticket_event("Where is my parcel?", "ok"))
        store.write_decisions(pref + short)
        with store.engine.connect() as conn:
            rows = conn.execute(select(ExampleRow).order_by(ExampleRow.source_index)).all()
            rejection = conn.execute(select(RejectionRow)).one()
        assert [r.kind for r in rows] == ["preference", "sft"]
        assert {r.provenance for r in rows} == {"reviewer"}
        assert rows[0].chosen == "Click 'Forgot password'." and rows[0].rejected == "No idea."
        assert rows[0].messages == [{"role": "user", "content": "Reset?"}]
        assert rows[1].messages[-1] == {"role": "assistant", "content": "Click 'Forgot password'."}
        assert rows[0].source_event_id == pref[0].source.event_id and rows[0].source_fanout == 2
        assert rejection.reasons == ["too_short"]
        assert rejection.provenance == "human_agent"
        assert rejection.example["messages"][-1]["content"] == "ok"

    def test_conversation_weights_and_turn_scores_round_trip(self, store: ExampleStore) -> None:
        """A weighted support conversation comes back with its weights and per-turn scores."""
        doc = as_ticket_event(dialogue("bank_fraud_report"))
        [ex] = _decided(doc)
        turns = [
            TurnScore(index=9, reward=0.4, relevance=0.3),
            TurnScore(index=11, reward=0.6, relevance=0.5),
        ]
        # In a batch past the COPY size: PostgreSQL appends it through COPY (JSON, NULLs).
        fillers = [
            e
            for i in range(COPY_MIN_ROWS)
            for e in _decided(ticket_event(f"Where is parcel {i}?", f"{ANSWER} Ref {i}."), i + 1)
        ]
        store.write_decisions([ex.model_copy(update={"turn_scores": turns}), *fillers])
        found = [s.example for s in iter_examples(store, ExampleQuery(tenant="acme"))]
        [got] = [e for e in found if e.id == ex.id]
        assert got.turn_scores == turns
        assert [m.weight for m in got.messages] == [m.weight for m in ex.messages]
        assert got.answer == ex.answer and "goodbye" not in got.answer
        assert len(found) == COPY_MIN_ROWS + 1
        assert all(not e.turn_scores for e in found if e.id != ex.id)

    def test_dead_letters_are_idempotent_and_keep_bytes(self, store: ExampleStore) -> None:
        """A redelivered dead letter is stored once, with its original bytes and reason."""
        letter = decode_event(b"\xff\xfe{", Coordinates("src", 1, 5), max_bytes=100)
        assert isinstance(letter, DeadLetter)
        store.record_dead_letters([letter])
        store.record_dead_letters([letter])
        with store.engine.connect() as conn:
            [row] = conn.execute(select(DeadLetterRow)).all()
        assert row.original == b"\xff\xfe{" and row.reason == "invalid_utf8" and row.offset == 5


class TestTally:
    def test_generated_stream_tallies_to_produced(self, store: ExampleStore) -> None:
        """curated + rejected + dlq == produced for a generated stream with duplicates and junk."""
        records = list(
            EventGenerator(seed=5, bad_fraction=0.15, duplicate_fraction=0.1).records(400)
        )
        filters = default_filters(filter_config(Settings()))
        decided: list[Example] = []
        letters: list[DeadLetter] = []
        for i, r in enumerate(records):
            out = validate_record(r.value, Coordinates("t", 0, i), max_bytes=262_144)
            if isinstance(out, DeadLetter):
                letters.append(out)
            else:
                decided += [decide(score_heuristics(e), filters) for e in out]
        store.write_decisions(decided[:150])
        store.write_decisions(decided[100:])  # overlapping replay
        store.record_dead_letters(letters)
        tally = store.tally()
        assert tally.curated + tally.rejected + tally.dlq == 400
        assert tally.pending == 0
        assert tally.dlq == sum(r.label.startswith("malformed") for r in records)
        assert tally.rejected_by_reason.get("duplicate", 0) >= sum(
            r.label == "duplicate" for r in records
        )

    def test_partial_event_is_pending(self, store: ExampleStore) -> None:
        """An event with two examples and only one stored is pending, not counted."""
        pref = _decided(
            feedback_event(
                "Reset?", "No idea.", thumb="down", correction="Use the reset link we emailed you."
            )
        )
        store.write_decisions(pref[:1])
        assert store.tally().pending == 1
        store.write_decisions(pref[1:])
        tally = store.tally()
        assert (tally.pending, tally.curated, tally.examples_curated) == (0, 1, 2)

    def test_event_with_a_dead_lettered_example_is_accounted(self, store: ExampleStore) -> None:
        """An event whose second example the curator dead-lettered is curated, not pending; an
        event whose two examples were both dead-lettered is one dead-lettered event."""

        def poison(example: Example) -> DeadLetter:
            return dead_letter(
                example.model_dump_json().encode(),
                Coordinates("scored", 0, example.source.index),
                DeadLetterReason.PROCESSING_ERROR,
                "ValueError: boom",
                stage="curator",
                event_id=example.source.event_id,
                tenant=example.tenant,
            )

        def correction(text: str) -> list[Example]:
            doc = feedback_event("Reset?", "No idea.", thumb="down", correction=text)
            return _decided(doc)

        half = correction("Use the reset link we emailed you.")
        lost = correction("Open Settings, then Security, then Reset password.")
        store.write_decisions(half[:1])
        store.record_dead_letters([poison(half[1]), poison(lost[0]), poison(lost[1])])
        store.record_dead_letters([decode_event(b"\xff", Coordinates("src", 0, 9), max_bytes=9)])  # type: ignore[list-item]
        tally = store.tally()
        assert (tally.curated, tally.rejected, tally.pending, tally.dlq) == (1, 0, 0, 2)
        assert tally.dlq_by_reason == {"processing_error": 3, "invalid_utf8": 1}
        assert tally.accounted == 3


class TestDedupAgainstTheStore:
    def test_rebuilt_index_verifies_candidates_with_stored_text(self, store: ExampleStore) -> None:
        """After a restart, a near copy of a stored answer is caught by exact Jaccard read back
        from the store, and an answer that only shares its template is kept."""
        from winnow.dedup.index import NearDuplicateIndex
        from winnow.stages.curate import curate_batch

        filters = default_filters(filter_config(Settings()))
        answer = (
            "I've refunded the second charge on your Pro plan; the money will be back on your "
            "card within five business days, and you'll get a confirmation email today."
        )
        first = _decided(ticket_event("I was charged twice for my Pro plan.", answer))
        index = NearDuplicateIndex(0.75)
        decided, sigs = curate_batch(first, filters, index, store.dedup_texts)
        store.write_decisions(decided, sigs)

        restarted = NearDuplicateIndex(0.75)
        assert restarted.rebuild(store.iter_dedup_signatures()) == 1
        near = _decided(
            ticket_event("i was charged twice for my pro plan!!", answer.replace("today", "soon"))
        )
        other = _decided(
            ticket_event(
                "I was charged twice for my Team plan.",
                "Your Team plan was billed once; the second line is a pending authorisation "
                "that your bank releases within three days, so no refund is needed.",
            )
        )
        out, _ = curate_batch(near + other, filters, restarted, store.dedup_texts)
        assert out[0].decision is not None and out[0].decision.reasons == [
            DropReason.NEAR_DUPLICATE
        ]
        assert out[1].decision is not None and out[1].decision.status == "accepted"

    def test_dedup_texts_takes_more_prefixes_than_one_query_may_bind(
        self, store: ExampleStore
    ) -> None:
        """40,000 candidate prefixes (80,000 bind parameters, over PostgreSQL's 65,535) come
        back as the stored texts they match, not as an error the curator would retry forever."""
        from winnow.dedup.index import dedup_text

        decided = _decided(ticket_event("Where is my parcel?", ANSWER))
        store.write_decisions(decided)
        stored_id = decided[0].id
        misses = [f"{i:08x}" for i in range(40_000)]
        prefixes = [*misses[:20_000], stored_id[:8], *misses[20_000:]]
        assert store.dedup_texts(decided[0].tenant, prefixes) == {
            stored_id[:8]: [dedup_text(decided[0])]
        }
