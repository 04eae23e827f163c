"""Producer-labelled tickets as router training data: issue statement + mapped category."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conversations import as_ticket_event, dialogue

from winnow.scoring.build.conversations import producer_rows


def test_mapped_tickets_become_labelled_issue_statements(tmp_path: Path) -> None:
    """Mapped categories label the issue statement; unmapped, invalid and other lines skip."""
    fraud = as_ticket_event(dialogue("bank_fraud_report"), category="Fraud")
    ride = as_ticket_event(dialogue("ride_book"), category="rides", tags=["booking"])
    unmapped = as_ticket_event(dialogue("hotel_search"), category="misc")
    path = tmp_path / "tickets.jsonl"
    lines = [json.dumps(fraud), json.dumps(ride), json.dumps(unmapped), "{not json"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = producer_rows(path, {"fraud": "payment", "tag:booking": "order"})
    assert [label for _, label in rows] == ["payment", "order"]
    assert rows[0][0].startswith("There is sure some suspicious behavior on my account")
    assert "University to Craig and Center" in rows[1][0]
