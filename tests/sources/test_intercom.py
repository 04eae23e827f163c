"""Intercom conversations become support-ticket events; what cannot be converted says why."""

from __future__ import annotations

import json

from winnow.cli.helpdesk import Helpdesk, helpdesk_records
from winnow.events import DeadLetter, SupportTicketEvent
from winnow.sources import Converted, Rejected, convert_intercom
from winnow.sources.common import read_records
from winnow.stages.decode import Coordinates, decode_event
from winnow.testing.fixtures import SAMPLE_DATA_DIR
from winnow.topics import TopicLayout

FIXTURE = SAMPLE_DATA_DIR / "helpdesk" / "intercom_conversations.json"


def _convert_all(**kw: str) -> list[Converted | Rejected]:
    return [
        convert_intercom(r, side, tenant="acme", **kw)
        for r, side in read_records(FIXTURE, "conversations")
    ]


def _event(out: Converted | Rejected) -> SupportTicketEvent:
    assert isinstance(out, Converted), out
    event = decode_event(json.dumps(out.event).encode(), Coordinates(), max_bytes=1_000_000)
    assert isinstance(event, SupportTicketEvent)
    return event


def test_documented_conversation_maps_every_field() -> None:
    """Opening message and comments by author type, notes and bot replies left out (counted),
    HTML as text, Unix times as ISO, rating as CSAT, a custom attribute as the category, unknown
    fields kept."""
    first = _event(_convert_all(category_field="Category")[0])
    data = first.data
    assert first.id == "intercom:1295:2026-10-01T11:40:00Z" and first.tenant == "acme"
    assert [t.speaker.value for t in data.turns] == ["customer", "agent", "customer"]
    assert data.turns[0].text == (
        "I was charged twice for order 4471 this morning.\nPlease refund one of them."
    )
    assert data.turns[1].text.startswith("I've refunded the second charge;\nit will be back")
    text = " ".join(t.text for t in data.turns)
    assert "duplicate capture" not in text and "Fin" not in text
    assert data.status.value == "resolved" and data.csat == 5 and data.channel == "chat"
    assert data.category == "refunds" and data.tags == ["billing"]
    assert data.metadata["internal_notes"] == 1 and data.metadata["bot_messages"] == 1
    assert data.metadata["priority"] == "priority"
    assert data.metadata["custom_attributes"] == {"Category": "refunds", "Plan": "premium"}
    assert data.created_at.isoformat() == "2026-10-01T09:12:00+00:00"


def test_states_channels_and_tag_category() -> None:
    """Open -> unresolved, e-mail source, a lead is the customer, an assignment without a body
    is no turn; no category asked -> the first tag; rating 1 -> CSAT 1."""
    outs = _convert_all()
    second, third = _event(outs[1]), _event(outs[2])
    assert second.data.status.value == "unresolved" and second.data.csat is None
    assert second.data.channel == "email" and second.data.category is None
    assert [t.speaker.value for t in second.data.turns] == ["customer", "agent"]
    assert second.data.turns[1].text.startswith("Open Orders, choose the order & press Edit")
    assert third.data.csat == 1 and third.data.category == "shipping"
    assert third.data.tags == ["shipping", "urgent"]


def test_malformed_conversations_are_rejected_with_the_reason() -> None:
    """Bot and notes only, no id, or parts not exported: rejected, naming the conversation."""
    outs = _convert_all()
    bot_only, no_id, no_parts = outs[3], outs[4], outs[5]
    assert isinstance(bot_only, Rejected) and bot_only.record_id == "1298"
    assert "no user or admin message" in bot_only.error
    assert isinstance(no_id, Rejected) and "`id`" in no_id.error
    assert isinstance(no_parts, Rejected) and "conversation_parts" in no_parts.error
    assert no_parts.error.startswith("intercom conversation 1300: ")


def test_batch_dead_letters_the_rejects_on_the_dlq_topic() -> None:
    """The CLI's batch: converted conversations to the tickets topic, dead letters to the DLQ."""
    layout = TopicLayout("winnow", ("tickets", "feedback", "synthetic"))
    batch = helpdesk_records(FIXTURE, Helpdesk.intercom, layout, tenant="acme")
    assert batch.converted == 3 and sum(batch.rejected.values()) == 3
    letters = [DeadLetter.model_validate_json(v) for t, _, v in batch.records if t == "winnow.dlq"]
    assert {letter.reason.value for letter in letters} == {"schema_violation"}
    assert [letter.event_id for letter in letters] == ["1298", None, "1300"]
