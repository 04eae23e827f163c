"""Conversation-level curation: a ticket is judged by its substance, not its goodbye."""

from __future__ import annotations

from typing import Any

from tests.conversations import as_ticket_event, dialogue

from winnow.agents.config import filter_config
from winnow.events import SOURCE_EVENT_ADAPTER
from winnow.example import Example
from winnow.reasons import DropReason
from winnow.settings import Settings
from winnow.stages.decode import Coordinates
from winnow.stages.filters.base import decide
from winnow.stages.filters.conversation import ConversationFilter, deciding_turn
from winnow.stages.filters.defaults import default_filters
from winnow.stages.heuristics import score_heuristics
from winnow.stages.normalise import event_to_examples


def _ticket(turns: list[tuple[str, str]] | None = None, **data: Any) -> Example:
    d = dialogue("bank_fraud_report")
    if turns is not None:
        d = {**d, "turns": [{"speaker": s, "text": t} for s, t in turns]}
    doc = as_ticket_event(d, **data)
    [ex] = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), Coordinates())
    return score_heuristics(ex)


def _decide(ex: Example) -> Example:
    return decide(ex, default_filters(filter_config(Settings())))


def test_substantive_ticket_ending_in_small_talk_is_kept() -> None:
    """The STAR fraud report ends with 'Thank you and goodbye.' and is still accepted."""
    ex = _decide(_ticket())
    assert ex.decision is not None and ex.decision.status == "accepted", ex.decision
    assert "goodbye" not in ex.answer.casefold()


def test_small_talk_only_is_rejected_at_its_last_agent_turn() -> None:
    """No agent turn carries substance: rejected, and the goodbye is the deciding turn."""
    ex = _decide(
        _ticket(
            [
                ("customer", "Hi there!"),
                ("agent", "Hello, how can I help?"),
                ("customer", "I need to report a stolen card."),
                ("agent", "May I have your name, please?"),
                ("customer", "Ann Lee"),
                ("agent", "Thank you and goodbye!"),
            ]
        )
    )
    assert ex.decision is not None and ex.decision.status == "rejected"
    assert DropReason.NO_SUBSTANTIVE_TURN in ex.decision.reasons
    assert deciding_turn(ex, DropReason.NO_SUBSTANTIVE_TURN) == len(ex.messages) - 1


def test_transfer_only_is_rejected() -> None:
    """An agent who only hands the customer over solved nothing."""
    ex = _decide(
        _ticket(
            [
                ("customer", "My card was charged twice for one order."),
                ("agent", "Let me transfer you to our billing team."),
                ("customer", "ok thanks"),
                ("agent", "Have a great day!"),
            ]
        )
    )
    assert ex.decision is not None
    assert DropReason.ESCALATION_ONLY in ex.decision.reasons


def test_unresolved_and_too_long_have_their_reasons() -> None:
    """An unresolved ticket, and one longer than the target context, say so."""
    unresolved = _decide(_ticket(status="unresolved"))
    assert unresolved.decision is not None
    assert unresolved.decision.reasons == [DropReason.UNRESOLVED_TICKET]
    ex = _ticket()
    assert ConversationFilter(max_tokens=50).check(ex) is DropReason.CONVERSATION_TOO_LONG
    assert ConversationFilter(max_tokens=None).check(ex) is None
