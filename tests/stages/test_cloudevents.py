"""CloudEvents 1.0: events made by the `cloudevents` SDK decode, in binary and structured mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cloudevents.v1 import kafka as ce_kafka
from cloudevents.v1.http import CloudEvent

from winnow.events import DeadLetter, SupportTicketEvent
from winnow.kafka.binding import binary_headers, is_binary, structured_from_binary
from winnow.reasons import DeadLetterReason
from winnow.stages.decode import Coordinates, decode_event
from winnow.testing.fixtures import ticket_event

TICKET = ticket_event("Where is my refund?", "It reaches your card within five days.")["data"]
ATTRS = {
    "type": "winnow.support_ticket.v1",
    "source": "https://helpdesk.example.com/tickets",
    "tenant": "acme",
    "datacontenttype": "application/json",
    "dataschema": "https://example.com/schemas/ticket.json",
    "subject": "T-1",
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
}


def _decode(value: bytes, headers: Any = None) -> Any:
    raw = structured_from_binary(headers, value) if is_binary(headers) else value
    return decode_event(raw, Coordinates("t", 0, 0), max_bytes=1_000_000)


def test_binary_mode_from_the_sdk_decodes_with_every_attribute() -> None:
    """ce_* headers and the data as the value: the event, extensions and subject kept."""
    message = ce_kafka.to_binary(CloudEvent(ATTRS, TICKET))
    event = _decode(message.value, message.headers)
    assert isinstance(event, SupportTicketEvent)
    assert event.id == message.headers["ce_id"].decode() and event.tenant == "acme"
    assert event.subject == "T-1" and event.datacontenttype == "application/json"
    assert event.extensions == {"traceparent": ATTRS["traceparent"]}
    assert event.data.ticket_id == TICKET["ticket_id"]


def test_structured_mode_from_the_sdk_decodes() -> None:
    """The whole event as JSON in the value (the SDK's structured mode)."""
    message = ce_kafka.to_structured(CloudEvent(ATTRS, TICKET))
    event = _decode(message.value, message.headers)
    assert isinstance(event, SupportTicketEvent) and event.dataschema == ATTRS["dataschema"]


def test_time_is_optional() -> None:
    """An event without `time` gets the moment it was decoded."""
    doc = {k: v for k, v in ticket_event("Hi?", "Hello there, how can I help?").items()}
    del doc["time"]
    before = datetime.now(UTC)
    event = _decode(json.dumps(doc).encode())
    assert isinstance(event, SupportTicketEvent) and event.time >= before


def test_a_renamed_data_field_still_dead_letters_in_binary_mode() -> None:
    """`data` stays strict: a renamed field is a schema violation naming it."""
    renamed = {**{k: v for k, v in TICKET.items() if k != "channel"}, "chanel": "chat"}
    message = ce_kafka.to_binary(CloudEvent(ATTRS, renamed))
    result = _decode(message.value, message.headers)
    assert isinstance(result, DeadLetter)
    assert result.reason is DeadLetterReason.SCHEMA_VIOLATION and "chanel" in result.error
    assert result.event_id == message.headers["ce_id"].decode()


def test_binary_mode_with_bad_data_or_content_type() -> None:
    """Invalid JSON data, or data declared as XML, are dead-lettered with their reason."""
    message = ce_kafka.to_binary(CloudEvent(ATTRS, TICKET))
    bad_json = _decode(b'{"ticket_id": ', message.headers)
    assert isinstance(bad_json, DeadLetter) and bad_json.reason is DeadLetterReason.INVALID_JSON
    xml = {**message.headers, "content-type": b"application/xml"}
    result = _decode(message.value, xml)
    assert isinstance(result, DeadLetter) and "datacontenttype" in result.error


def test_winnows_own_headers_are_a_cloudevent_for_the_sdk() -> None:
    """Winnow's binary-mode headers read back through the SDK as a CloudEvent 1.0."""
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    headers = binary_headers(
        event_type="winnow.retrain.v1",
        event_id="abc",
        service="curator",
        time=at,
        subject="billing",
        extensions={"tenant": "acme"},
    )
    value = json.dumps({"domain": "billing"}).encode()
    event = ce_kafka.from_binary(ce_kafka.KafkaMessage(dict(headers), None, value))
    assert event["specversion"] == "1.0" and event["type"] == "winnow.retrain.v1"
    assert event["source"] == "urn:winnow:curator" and event["id"] == "abc"
    assert event["tenant"] == "acme" and event["subject"] == "billing"
    assert event.data == {"domain": "billing"}
