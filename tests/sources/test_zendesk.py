"""Zendesk exports become support-ticket events; what cannot be converted says why."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from winnow.cli.helpdesk import Helpdesk, helpdesk_records
from winnow.events import DeadLetter, SupportTicketEvent
from winnow.sources import Converted, Rejected, convert_zendesk
from winnow.sources.common import read_records
from winnow.stages.decode import Coordinates, decode_event
from winnow.testing.fixtures import SAMPLE_DATA_DIR
from winnow.topics import TopicLayout

FIXTURE = SAMPLE_DATA_DIR / "helpdesk" / "zendesk_tickets.json"


def _convert_all(path: Path, **kw: object) -> list[Converted | Rejected]:
    return [
        convert_zendesk(r, side, tenant="acme", **kw)  # type: ignore[arg-type]
        for r, side in read_records(path, "tickets")
    ]


def _event(out: Converted | Rejected) -> SupportTicketEvent:
    assert isinstance(out, Converted), out
    event = decode_event(json.dumps(out.event).encode(), Coordinates(), max_bytes=1_000_000)
    assert isinstance(event, SupportTicketEvent)
    return event


def test_documented_ticket_maps_every_field() -> None:
    """Public comments by role, internal notes left out, CSAT, category, unknown fields kept."""
    first = _event(_convert_all(FIXTURE, category_field=27642)[0])
    data = first.data
    assert first.id == "zendesk:35436:2026-10-01T11:40:00Z" and first.tenant == "acme"
    assert [t.speaker.value for t in data.turns] == ["customer", "agent", "customer"]
    assert "duplicate capture" not in " ".join(t.text for t in data.turns)
    assert data.status.value == "resolved" and data.csat == 5 and data.channel == "email"
    assert data.category == "refunds" and data.tags == ["billing", "double_charge"]
    assert data.metadata["internal_notes"] == 1
    assert data.metadata["priority"] == "high" and data.metadata["external_id"] == "ahg35h3jh"


def test_statuses_ratings_and_tag_category() -> None:
    """Open -> unresolved, bad -> CSAT 1, no custom field asked -> the first tag is the category."""
    outs = _convert_all(FIXTURE)
    second, third = _event(outs[1]), _event(outs[2])
    assert second.data.status.value == "unresolved" and second.data.csat is None
    assert second.data.category == "shipping" and second.data.channel == "web"
    assert [t.speaker.value for t in second.data.turns] == ["customer", "agent"]  # admin: agent
    assert third.data.csat == 1 and third.data.channel == "chat" and third.data.category is None


def test_malformed_tickets_are_rejected_with_the_reason() -> None:
    """Only internal notes, or no id: rejected, the reason naming the ticket and the problem."""
    outs = _convert_all(FIXTURE)
    notes, no_id = outs[3], outs[4]
    assert isinstance(notes, Rejected) and "35439" in notes.error and "public" in notes.error
    assert isinstance(no_id, Rejected) and "`id`" in no_id.error


def test_batch_dead_letters_the_rejects_on_the_dlq_topic() -> None:
    """The CLI's batch: converted tickets to the tickets topic, dead letters to the DLQ."""
    layout = TopicLayout("winnow", ("tickets", "feedback", "synthetic"))
    batch = helpdesk_records(FIXTURE, Helpdesk.zendesk, layout, tenant="acme")
    assert batch.converted == 3 and sum(batch.rejected.values()) == 2
    topics = [topic for topic, _, _ in batch.records]
    assert topics.count("winnow.sources.tickets") == 3 and topics.count("winnow.dlq") == 2
    letter = DeadLetter.model_validate_json(batch.records[3][2])
    assert letter.reason.value == "schema_violation" and "35439" in letter.error


def test_generated_export_of_1000_tickets_converts_in_full(tmp_path: Path) -> None:
    """The 1,000-ticket export built from the documented shape: every ticket converts."""
    spec = importlib.util.spec_from_file_location(
        "make_zendesk_export", SAMPLE_DATA_DIR / "helpdesk" / "make_zendesk_export.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "zendesk.json"
    path.write_text(json.dumps(module.export(1000)))
    outs = _convert_all(path, category_field=27642)
    assert len(outs) == 1000 and all(isinstance(o, Converted) for o in outs)
    assert len({o.event["id"] for o in outs if isinstance(o, Converted)}) == 1000
