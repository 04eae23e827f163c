"""The vendored conversation fixtures (STAR and MultiDoGO samples), as test data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "conversations"
DIALOGUES = FIXTURES / "dialogues.jsonl"
AGENT_TURNS = FIXTURES / "star_agent_turns.labelled.jsonl"


def dialogues() -> list[dict[str, Any]]:
    """The vendored dialogues: source, dialogue_id, task, mapped category and turns."""
    return [json.loads(line) for line in DIALOGUES.read_text(encoding="utf-8").splitlines()]


def dialogue(task: str) -> dict[str, Any]:
    """The vendored dialogue of ``task`` (e.g. ``bank_fraud_report``)."""
    return next(d for d in dialogues() if d["task"] == task)


def as_ticket_event(d: dict[str, Any], **data: Any) -> dict[str, Any]:
    """A ``winnow.support_ticket.v1`` event carrying the dialogue's turns."""
    return {
        "specversion": "1.0",
        "id": f"{d['source']}:{d['dialogue_id']}",
        "source": "urn:test",
        "type": "winnow.support_ticket.v1",
        "time": "2026-01-01T00:00:00Z",
        "tenant": "acme",
        "data": {
            "ticket_id": str(d["dialogue_id"]),
            "channel": "chat",
            "created_at": "2026-01-01T00:00:00Z",
            "turns": [{"speaker": t["speaker"], "text": t["text"]} for t in d["turns"]],
            "status": "resolved",
            **data,
        },
    }
