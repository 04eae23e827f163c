"""Curation filters: each drop has its reason, and a decision carries all of them."""

from __future__ import annotations

from winnow.agents.config import filter_config
from winnow.events import SOURCE_EVENT_ADAPTER
from winnow.example import Example
from winnow.reasons import DropReason
from winnow.settings import Settings
from winnow.stages.decode import Coordinates
from winnow.stages.filters.base import decide
from winnow.stages.filters.basic import AnswerLengthFilter
from winnow.stages.filters.defaults import default_filters
from winnow.stages.heuristics import heuristic_scores, score_heuristics
from winnow.stages.normalise import event_to_examples
from winnow.testing.fixtures import ticket_event

GOOD = "Your refund was issued today and will reach your card within five business days."


def _ex(answer: str, **kw: str) -> Example:
    doc = ticket_event("Where is my refund?", answer, **kw)
    [ex] = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), Coordinates())
    return score_heuristics(ex)


def _decide(ex: Example) -> Example:
    return decide(
        ex, default_filters(filter_config(Settings(min_answer_chars=20, max_answer_chars=200)))
    )


class TestFilters:
    def test_good_answer_is_accepted(self) -> None:
        """A resolved ticket with a real answer passes every filter."""
        out = _decide(_ex(GOOD))
        assert out.decision is not None and out.decision.status == "accepted"
        assert out.decision.reasons == []

    def test_each_reason(self) -> None:
        """Blank, short, long and templated answers and unresolved tickets get their reasons."""
        cases = {
            "   ": [DropReason.EMPTY_ANSWER],
            "ok": [DropReason.TOO_SHORT],
            "x" * 201: [DropReason.TOO_LONG],
            "Please call {{Customer Support Phone Number}} for help with this.": [
                DropReason.TEMPLATE_PLACEHOLDER
            ],
        }
        for answer, reasons in cases.items():
            out = _decide(_ex(answer))
            assert out.decision is not None and out.decision.reasons == reasons, answer
        out = _decide(_ex(GOOD, status="escalated"))
        assert out.decision is not None and out.decision.reasons == [DropReason.UNRESOLVED_TICKET]

    def test_all_reasons_are_kept(self) -> None:
        """An example failing two filters carries both reasons."""
        out = _decide(_ex("{{Name}}", status="unresolved"))
        assert out.decision is not None
        assert set(out.decision.reasons) == {
            DropReason.TOO_SHORT,
            DropReason.TEMPLATE_PLACEHOLDER,
            DropReason.UNRESOLVED_TICKET,
        }

    def test_none_turns_a_bound_off(self) -> None:
        """A length bound set to None is not applied."""
        f = AnswerLengthFilter(min_chars=None, max_chars=None)
        assert f.check(_ex("ok")) is None

    def test_heuristic_signals(self) -> None:
        """Heuristics measure the answer and count placeholders."""
        scores = heuristic_scores(_ex("See {{Order Number}} and [[Website]]."))
        assert scores["placeholders"] == 2.0
        assert scores["answer_chars"] == len("See {{Order Number}} and [[Website]].")
        assert scores["empty_answer"] == 0.0
        assert scores["prompt_chars"] == len("Where is my refund?")
