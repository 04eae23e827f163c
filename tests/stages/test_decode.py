"""The validator's decode step: every malformed record becomes a dead letter with its reason."""

from __future__ import annotations

import json

import pytest

from winnow.demo.generator import MALFORMED_KINDS, EventGenerator
from winnow.events import DeadLetter, SupportTicketEvent
from winnow.reasons import DeadLetterReason
from winnow.stages.decode import Coordinates, decode_event
from winnow.stages.validate import validate_record
from winnow.testing.fixtures import as_bytes, ticket_event

COORDS = Coordinates("winnow.sources.tickets", 2, 41)
EXPECTED = {
    "broken_json": DeadLetterReason.INVALID_JSON,
    "invalid_utf8": DeadLetterReason.INVALID_UTF8,
    "wrong_types": DeadLetterReason.SCHEMA_VIOLATION,
    "missing_fields": DeadLetterReason.SCHEMA_VIOLATION,
    "unknown_type": DeadLetterReason.UNKNOWN_TYPE,
    "oversize": DeadLetterReason.OVERSIZE,
}


class TestDecodeEvent:
    def test_valid_ticket_decodes(self) -> None:
        """A well-formed ticket decodes into its typed event."""
        event = decode_event(
            as_bytes(ticket_event("Where is my order?", "On its way.")), COORDS, max_bytes=100_000
        )
        assert isinstance(event, SupportTicketEvent)
        assert event.data.turns[1].text == "On its way."

    @pytest.mark.parametrize("kind", MALFORMED_KINDS)
    def test_each_malformed_kind_gets_its_reason(self, kind: str) -> None:
        """Each kind of malformed record the generator plants maps to one dead-letter reason."""
        gen = EventGenerator(seed=3)
        record = gen._malformed(kind)
        letter = decode_event(record.value, COORDS, max_bytes=262_144)
        assert isinstance(letter, DeadLetter)
        assert letter.reason is EXPECTED[kind]
        assert letter.original == record.value
        assert (letter.topic, letter.partition, letter.offset) == (COORDS.topic, 2, 41)

    def test_schema_error_names_fields_but_not_values(self) -> None:
        """The error says which field is wrong without echoing customer text."""
        doc = ticket_event("My card 4111 1111 1111 1111 was charged", "Refunded.")
        doc["data"]["csat"] = "secret-customer-text"
        letter = decode_event(as_bytes(doc), COORDS, max_bytes=100_000)
        assert isinstance(letter, DeadLetter)
        assert "data.csat" in letter.error
        assert "secret-customer-text" not in letter.error
        assert letter.event_id == doc["id"] and letter.tenant == "acme"

    def test_unknown_field_is_a_violation(self) -> None:
        """A renamed upstream field is refused, not silently dropped."""
        doc = ticket_event("q", "a")
        doc["data"]["customer_sat"] = doc["data"].pop("status")
        letter = decode_event(as_bytes(doc), COORDS, max_bytes=100_000)
        assert isinstance(letter, DeadLetter) and letter.reason is DeadLetterReason.SCHEMA_VIOLATION

    def test_non_object_json_is_a_violation(self) -> None:
        """A JSON array or number is not an event."""
        letter = decode_event(b"[1, 2]", COORDS, max_bytes=100)
        assert isinstance(letter, DeadLetter) and letter.reason is DeadLetterReason.SCHEMA_VIOLATION

    def test_redelivery_has_the_same_id_and_other_records_do_not(self) -> None:
        """Dead-letter ids are stable for a redelivered record and differ for another one."""
        a = decode_event(b"{bad", COORDS, max_bytes=100)
        b = decode_event(b"{bad", COORDS, max_bytes=100)
        c = decode_event(b"{worse", COORDS, max_bytes=100)
        assert isinstance(a, DeadLetter) and isinstance(b, DeadLetter) and isinstance(c, DeadLetter)
        assert a.id == b.id != c.id

    def test_dead_letter_round_trips_original_bytes_through_json(self) -> None:
        """The original bytes, invalid UTF-8 included, survive the DLQ's JSON encoding."""
        raw = b'{"id": "\xff\xfe"}'
        letter = decode_event(raw, COORDS, max_bytes=100)
        assert isinstance(letter, DeadLetter)
        again = DeadLetter.model_validate_json(letter.model_dump_json())
        assert again.original == raw


class TestValidateRecord:
    def test_event_without_an_answer_is_dead_lettered(self) -> None:
        """A ticket with no agent turn after the customer holds nothing to learn from."""
        doc = ticket_event("Hello?", "unused")
        doc["data"]["turns"] = [{"speaker": "customer", "text": "Hello?"}]
        out = validate_record(as_bytes(doc), COORDS, max_bytes=100_000)
        assert isinstance(out, DeadLetter) and out.reason is DeadLetterReason.NO_EXAMPLE

    def test_generated_stream_is_fully_accounted(self) -> None:
        """Every generated record yields examples or exactly one dead letter; malformed ones DLQ."""
        gen = EventGenerator(seed=11, bad_fraction=0.2)
        records = list(gen.records(500))
        for i, record in enumerate(records):
            out = validate_record(record.value, Coordinates("t", 0, i), max_bytes=262_144)
            if record.label.startswith("malformed"):
                assert isinstance(out, DeadLetter), record.label
            else:
                assert isinstance(out, list) and out, record.label
                assert all(e.source.fanout == len(out) for e in out)
                assert json.loads(record.value)["id"] == out[0].source.event_id


class TestRedactionInValidation:
    def test_candidates_leave_the_validator_redacted(self) -> None:
        """PII is replaced before the example exists downstream, and counted by type."""
        doc = ticket_event(
            "Mail me at jane.doe@example.com or call +44 20 7946 0958.", "Done, Jane."
        )
        [ex] = validate_record(as_bytes(doc), COORDS, max_bytes=100_000)  # type: ignore[misc]
        text = ex.messages[0].content
        assert "jane.doe@example.com" not in text and "<EMAIL>" in text and "<PHONE>" in text
        # The agent's "Done, Jane." names the customer: a numbered name placeholder.
        assert ex.messages[-1].content == "Done, <NAME_1>."
        assert ex.redactions == {"email": 1, "phone": 1, "name": 1}

    def test_copies_differing_only_in_pii_share_an_id(self) -> None:
        """Two events that differ only in the e-mail address become the same example id."""
        a = validate_record(
            as_bytes(ticket_event("I am a@x.io, refund me", "Refunded today.")),
            COORDS,
            max_bytes=100_000,
        )
        b = validate_record(
            as_bytes(ticket_event("I am b@y.io, refund me", "Refunded today.")),
            COORDS,
            max_bytes=100_000,
        )
        assert isinstance(a, list) and isinstance(b, list)
        assert a[0].id == b[0].id


def test_nul_character_is_dead_lettered() -> None:
    """An escaped NUL (refused by PostgreSQL text columns) becomes a schema violation, not a
    write the curator would retry forever."""
    doc = ticket_event("Where is my order?", "It ships to\u0000day.")
    letter = decode_event(as_bytes(doc), COORDS, max_bytes=100_000)
    assert isinstance(letter, DeadLetter) and letter.reason is DeadLetterReason.SCHEMA_VIOLATION
    assert "NUL" in letter.error


def test_dead_letter_ids_are_redacted_and_printable() -> None:
    """`dead_letters.event_id` held client ids as sent (the log line was redacted): an e-mail or
    card number in an id is masked, and a lone surrogate in it is escaped, not kept."""
    for doc, hidden in (
        ({"id": "from:bob@example.com", "type": "nope"}, "bob@example.com"),
        ({"id": "order 4111 1111 1111 1111", "type": "nope"}, "4111 1111"),
    ):
        letter = decode_event(json.dumps(doc).encode(), COORDS, max_bytes=10_000)
        assert isinstance(letter, DeadLetter) and letter.reason is DeadLetterReason.UNKNOWN_TYPE
        assert letter.event_id and hidden not in letter.event_id
    letter = decode_event(b'{"id":"a\\ud800b","type":"nope"}', COORDS, max_bytes=10_000)
    assert isinstance(letter, DeadLetter) and letter.event_id == "a\\ud800b"
    letter.event_id.encode("utf-8")
