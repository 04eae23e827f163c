"""`winnow score`: offline scoring of a JSONL of source events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from winnow.cli.main import app
from winnow.events import (
    ChatFeedback,
    ChatFeedbackEvent,
    ChatMessage,
    Rating,
    ResolutionStatus,
    Role,
    Speaker,
    SupportTicket,
    SupportTicketEvent,
    SyntheticExample,
    SyntheticExampleEvent,
    Thumb,
    Turn,
)
from winnow.settings import get_settings

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PERSONAL_TEXT = (
    "this is Priya Raman, Account ID: B3BLRKKZQQ, my number is 555-7709 and I live at "
    "9756 Primrose Street. Where is my refund?"
)
PERSONAL_VALUES = ("Priya", "Raman", "B3BLRKKZQQ", "555-7709", "9756 Primrose")


def events_jsonl(path: Path) -> None:
    """Three valid events (ticket, feedback with a correction, synthetic) and one broken line."""
    ticket = SupportTicketEvent(
        id="t-1",
        source="helpdesk://test",
        time=NOW,
        tenant="acme",
        data=SupportTicket(
            ticket_id="T1",
            channel="chat",
            created_at=NOW,
            turns=[
                Turn(speaker=Speaker.CUSTOMER, text="I returned my shoes, where is my refund?"),
                Turn(
                    speaker=Speaker.AGENT, text="Your refund was issued today and takes 3-5 days."
                ),
            ],
            status=ResolutionStatus.RESOLVED,
        ),
    )
    feedback = ChatFeedbackEvent(
        id="f-1",
        source="chat://test",
        time=NOW,
        tenant="acme",
        data=ChatFeedback(
            conversation_id="c1",
            model_id="bot-1",
            messages=[ChatMessage(role=Role.USER, content="How do I cancel my order?")],
            response="no idea",
            rating=Rating(thumb=Thumb.DOWN),
            correction="Open Orders, choose the order and click Cancel before it ships.",
        ),
    )
    synthetic = SyntheticExampleEvent(
        id="s-1",
        source="teacher://test",
        time=NOW,
        tenant="acme",
        data=SyntheticExample(
            generator_model="teacher-1",
            method="teacher",
            prompt="Can I change the delivery address after ordering?",
            response="Yes, until the parcel ships: edit the address under Orders.",
        ),
    )
    personal = ticket.model_copy(
        update={
            "id": "t-2",
            "data": ticket.data.model_copy(
                update={
                    "turns": [
                        Turn(speaker=Speaker.CUSTOMER, text=f"Hi, {PERSONAL_TEXT}"),
                        Turn(
                            speaker=Speaker.AGENT, text="Thanks, Priya. The refund is on its way."
                        ),
                    ]
                }
            ),
        }
    )
    lines = [e.model_dump_json() for e in (ticket, feedback, synthetic, personal)]
    path.write_text("\n".join([*lines, "{not json"]) + "\n", encoding="utf-8")


def test_score_cli_writes_scored_examples(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each valid event's examples come out scored, the broken line is counted, not fatal."""
    src, dest = tmp_path / "events.jsonl", tmp_path / "out" / "scored.jsonl"
    events_jsonl(src)
    monkeypatch.setattr("winnow.scoring.cli._setup", lambda: None)
    monkeypatch.setenv("WINNOW_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("WINNOW_ORT_PROVIDERS", '["CPUExecutionProvider"]')
    # The int8 embedder is as close as 0.972 (min cosine) to fp32, enough to move this short
    # ticket across the router's `other` line on some machines; fp32 gives the same route
    # everywhere, so the route asserted below is the model's, not int8 rounding's.
    monkeypatch.setenv("WINNOW_EMBEDDER_PRECISION", "fp32")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["score", "--input", str(src), "--output", str(dest)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()]
    # tickets -> 1 SFT each; feedback with correction -> preference + SFT; synthetic -> 1 SFT.
    assert len(rows) == 5
    assert {r["source"]["event_id"] for r in rows} == {"t-1", "t-2", "f-1", "s-1"}
    # The stream's path: what `winnow score` writes is redacted like the validator's output.
    written = dest.read_text(encoding="utf-8")
    assert not [v for v in PERSONAL_VALUES if v in written]
    personal = next(r for r in rows if r["source"]["event_id"] == "t-2")
    assert personal["messages"][1]["content"] == "Thanks, <NAME_1>. The refund is on its way."
    for row in rows:
        assert {"reward", "relevance", "domain_confidence"} <= set(row["scores"])
        assert row["domain"] is not None
        assert row["model_versions"]["embedder"].startswith("minilm-l6-v2:")
    ticket = next(r for r in rows if r["source"]["event_id"] == "t-1")
    assert ticket["domain"] == "refund"
    pref = next(r for r in rows if r["kind"] == "preference")
    assert pref["scores"]["reward_margin"] == pytest.approx(
        pref["scores"]["reward"] - pref["scores"]["reward_rejected"]
    )
    assert "invalid_json" in result.output


def test_score_cli_honours_the_validators_privacy_settings(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (issue 15): `winnow score` ignored WINNOW_PII_*; with surrogate placeholders,
    a subject key and order numbers kept it writes what the validator's stream path writes."""
    from winnow.agents.config import validate_config
    from winnow.stages.decode import Coordinates

    src, dest = tmp_path / "events.jsonl", tmp_path / "scored.jsonl"
    ticket = SupportTicketEvent(
        id="t-3",
        source="helpdesk://test",
        time=NOW,
        tenant="acme",
        data=SupportTicket(
            ticket_id="T3",
            channel="chat",
            created_at=NOW,
            turns=[
                Turn(speaker=Speaker.CUSTOMER, text=f"Hi, {PERSONAL_TEXT} Order ORD-123456."),
                Turn(speaker=Speaker.AGENT, text="Thanks, Priya. Order ORD-123456 ships today."),
            ],
            status=ResolutionStatus.RESOLVED,
        ),
    )
    src.write_text(ticket.model_dump_json() + "\n", encoding="utf-8")
    monkeypatch.setattr("winnow.scoring.cli._setup", lambda: None)
    monkeypatch.setenv("WINNOW_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("WINNOW_ORT_PROVIDERS", '["CPUExecutionProvider"]')
    monkeypatch.setenv("WINNOW_PII_SUBJECT_KEY", "score-test-subject-key")
    monkeypatch.setenv("WINNOW_PII_PLACEHOLDERS", "surrogate")
    monkeypatch.setenv("WINNOW_PII_ORDER_NUMBERS", "keep")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["score", "--input", str(src), "--output", str(dest)])
        [stream] = validate_config(get_settings())(  # type: ignore[misc]
            src.read_bytes().strip(), Coordinates(topic=src.name, offset=0)
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()]
    written = dest.read_text(encoding="utf-8")
    assert not [v for v in PERSONAL_VALUES if v in written]
    assert "<NAME_" not in written and "<ORDER_" not in written  # stand-ins, order kept
    answer = row["messages"][1]["content"]
    assert answer.endswith(". Order ORD-123456 ships today.") and answer.startswith("Thanks, ")
    assert answer != "Thanks, <NAME_1>. Order ORD-123456 ships today."
    # The validator's own construction gives the same text and the same erasure hashes.
    assert [m["content"] for m in row["messages"]] == [m.content for m in stream.messages]
    assert row["subjects"] and sorted(row["subjects"]) == sorted(stream.subjects)
