"""Freshdesk tickets become support-ticket events; what cannot be converted says why."""

from __future__ import annotations

import json

from winnow.cli.helpdesk import Helpdesk, helpdesk_records
from winnow.events import SupportTicketEvent
from winnow.sources import Converted, Rejected, convert_freshdesk
from winnow.sources.common import read_records
from winnow.stages.decode import Coordinates, decode_event
from winnow.testing.fixtures import SAMPLE_DATA_DIR
from winnow.topics import TopicLayout

FIXTURE = SAMPLE_DATA_DIR / "helpdesk" / "freshdesk_tickets.json"


def _convert_all(**kw: str) -> list[Converted | Rejected]:
    return [
        convert_freshdesk(r, side, tenant="acme", **kw)
        for r, side in read_records(FIXTURE, "tickets")
    ]


def _event(out: Converted | Rejected) -> SupportTicketEvent:
    assert isinstance(out, Converted), out
    event = decode_event(json.dumps(out.event).encode(), Coordinates(), max_bytes=1_000_000)
    assert isinstance(event, SupportTicketEvent)
    return event


def test_documented_ticket_maps_every_field() -> None:
    """Description then public conversations, private notes left out (counted), the embedded
    rating as CSAT, a custom field as the category, unknown fields kept."""
    first = _event(_convert_all(category_field="cf_category")[0])
    data = first.data
    assert first.id == "freshdesk:20:2026-10-01T11:40:00Z" and first.tenant == "acme"
    assert [t.speaker.value for t in data.turns] == ["customer", "agent", "customer"]
    assert data.turns[0].text.startswith("I was charged twice for order 4471")
    assert "duplicate capture" not in " ".join(t.text for t in data.turns)
    assert data.status.value == "resolved" and data.csat == 5 and data.channel == "email"
    assert data.category == "Refunds" and data.tags == ["billing", "double_charge"]
    assert data.metadata["private_notes"] == 1 and data.metadata["type"] == "Refund"
    assert data.metadata["custom_fields"] == {"cf_category": "Refunds", "cf_plan": "premium"}
    assert data.metadata["priority"] == 3 and data.metadata["requester_id"] == 129


def test_html_side_loaded_rating_and_roles() -> None:
    """HTML-only bodies as text; a side-loaded rating of -103 is CSAT 1; an empty custom field
    falls back to the first tag; a side-loaded contact is the customer even when the reply is
    not flagged incoming."""
    outs = _convert_all(category_field="cf_category")
    second, third = _event(outs[1]), _event(outs[2])
    assert second.data.status.value == "unresolved" and second.data.channel == "web"
    assert second.data.csat == 1 and second.data.category == "shipping"
    assert second.data.turns[0].text == "How do I change the delivery address of my order?"
    assert second.data.turns[1].text.startswith("Open Orders, choose the order & press Edit")
    assert third.data.status.value == "resolved" and third.data.channel == "chat"
    assert [t.speaker.value for t in third.data.turns] == [
        "customer",
        "agent",
        "customer",
        "agent",
    ]
    assert third.data.csat is None and third.data.category is None


def test_malformed_tickets_are_rejected_with_the_reason() -> None:
    """Conversations not embedded, or a rating outside the survey scale: rejected, naming the
    ticket and the problem."""
    outs = _convert_all()
    bare, odd = outs[3], outs[4]
    assert isinstance(bare, Rejected) and bare.error.startswith("freshdesk ticket 23: ")
    assert "conversations" in bare.error
    assert isinstance(odd, Rejected) and "satisfaction rating 42" in odd.error


def test_batch_dead_letters_the_rejects_on_the_dlq_topic() -> None:
    """The CLI's batch: converted tickets to the tickets topic, dead letters to the DLQ."""
    layout = TopicLayout("winnow", ("tickets", "feedback", "synthetic"))
    batch = helpdesk_records(FIXTURE, Helpdesk.freshdesk, layout, tenant="acme")
    assert batch.converted == 3 and sum(batch.rejected.values()) == 2
    topics = [topic for topic, _, _ in batch.records]
    assert topics.count("winnow.sources.tickets") == 3 and topics.count("winnow.dlq") == 2
