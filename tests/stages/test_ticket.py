"""Ticket understanding: turn kinds, segments and the issue statement, on real conversations."""

from __future__ import annotations

import json

import pytest
from tests.conversations import AGENT_TURNS, dialogue, dialogues

from winnow.events import Role
from winnow.stages.ticket import (
    Segment,
    TurnKind,
    classify_turn,
    is_small_talk,
    segment_conversation,
)


def _segmented(task: str):  # type: ignore[no-untyped-def]
    d = dialogue(task)
    role = {"customer": Role.USER, "agent": Role.ASSISTANT}
    return segment_conversation([(role[t["speaker"]], t["text"]) for t in d["turns"]])


class TestTurnKinds:
    @pytest.mark.parametrize(
        ("text", "role", "kind"),
        [
            ("Hello! Good morning.", Role.USER, TurnKind.GREETING),
            ("Hello, how can I help?", Role.ASSISTANT, TurnKind.GREETING),
            ("That is all thank you", Role.USER, TurnKind.CLOSING),
            ("Is there anything else that I can do for you?", Role.ASSISTANT, TurnKind.CLOSING),
            ("Goodbye. Enjoy your ride!", Role.ASSISTANT, TurnKind.CLOSING),
            ("okthanks", Role.USER, TurnKind.CLOSING),
            ("no thanks", Role.USER, TurnKind.ACK),
            ("May I have your name, please?", Role.ASSISTANT, TurnKind.IDENTITY),
            ("Right, and your PIN as well please.", Role.ASSISTANT, TurnKind.IDENTITY),
            ("Hi, my card was stolen, can you block it?", Role.USER, TurnKind.SUBSTANCE),
            (
                "It will arrive in 20 minutes. Is there anything else I can help you with?",
                Role.ASSISTANT,
                TurnKind.SUBSTANCE,
            ),
        ],
    )
    def test_kind(self, text: str, role: Role, kind: TurnKind) -> None:
        """Greetings, closings, bare answers, identity checks and substance are told apart."""
        assert classify_turn(text, role) is kind

    def test_hand_checked_star_agent_turns(self) -> None:
        """On 219 hand-labelled STAR agent turns, small talk is found with P and R >= 0.9."""
        rows = [json.loads(line) for line in AGENT_TURNS.read_text("utf-8").splitlines()]
        assert len(rows) >= 200
        gold = [r["label"] in ("greeting", "closing") for r in rows]
        pred = [is_small_talk(r["text"], Role.ASSISTANT) for r in rows]
        tp = sum(g and p for g, p in zip(gold, pred, strict=True))
        assert tp / sum(pred) >= 0.9 and tp / sum(gold) >= 0.9
        # The sample is not all small talk: a detector saying "yes" to everything fails.
        assert sum(gold) < len(rows) / 2

    def test_multidogo_intents(self) -> None:
        """MultiDoGO turns labelled greeting/closing/thanks are small talk; task turns are not."""
        turns = [t for d in dialogues() for t in d["turns"] if t.get("intents")]
        small = {"openinggreeting", "closinggreeting", "thankyou"}
        for t in turns:
            if set(t["intents"]) & {"reportlostcard", "checkclaimstatus", "orderpizzaintent"}:
                assert not is_small_talk(t["text"], Role.USER), t["text"]
        hits = [is_small_talk(t["text"], Role.USER) for t in turns if set(t["intents"]) <= small]
        assert sum(hits) >= 0.8 * len(hits) and len(hits) >= 4


class TestSegments:
    def test_fraud_report_issue_identity_and_closing(self) -> None:
        """A STAR fraud report: the first message is the issue; checks and goodbyes weigh 0."""
        conv = _segmented("bank_fraud_report")
        assert conv.issue.startswith("There is sure some suspicious behavior on my account")
        kinds = [t.kind for t in conv.turns if t.role is Role.ASSISTANT]
        assert kinds[:4] == [TurnKind.IDENTITY] * 4
        assert kinds[-2:] == [TurnKind.CLOSING, TurnKind.CLOSING]
        trained = [conv.turns[i].text for i in conv.substantive_answers]
        assert len(trained) == 2
        assert trained[1].startswith("Your report has been successfully submitted")
        assert [t.segment for t in conv.turns[-3:]] == [Segment.CLOSING] * 3

    def test_greeting_before_the_issue_is_opening(self) -> None:
        """'Hello' / 'Hello, how can I help?' open the ticket; the ride request is the issue."""
        conv = _segmented("ride_book")
        assert [t.segment for t in conv.turns[:3]] == [
            Segment.OPENING,
            Segment.OPENING,
            Segment.ISSUE,
        ]
        assert "University to Craig and Center" in conv.issue

    def test_multidogo_issue_skips_the_greeting(self) -> None:
        """'hi gud mrng' is the opening; the stolen card is the issue."""
        conv = _segmented("reportlostcard")
        assert conv.turns[0].segment is Segment.OPENING
        assert conv.issue == "my credit card has been stolen"

    def test_no_substance_no_issue(self) -> None:
        """Small talk only: no issue statement and nothing to train on."""
        conv = segment_conversation(
            [(Role.USER, "hi"), (Role.ASSISTANT, "Hello, how can I help?"), (Role.USER, "bye")]
        )
        assert conv.issue == "" and conv.substantive_answers == []
        assert conv.weights() == [0, 0, 0]
