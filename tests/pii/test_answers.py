"""Answers read with the conversation around them: demands without a question mark, a full
name whose surname is a common word, a pet's name opening a story, a number after "of course",
and a value the customer gave that the conversation repeats later. Each rule next to the case
it must leave."""

from __future__ import annotations

from winnow.pii.conversation import find_pii_in_turns
from winnow.pii.expect import Expect, expectation

_NAME = "Could I get your full name, please?"
_PET = "And what was the name of the pet you had as a child?"
_ACCOUNT = "Can you tell me your account number, please?"


def _hits(*turns: tuple[str, str]) -> list[list[tuple[str, str]]]:
    """(text, type) of every hit, turn by turn."""
    found = find_pii_in_turns(list(turns))
    pairs = zip(turns, found, strict=True)
    return [[(t[h.start : h.end], h.type.value) for h in hs] for (_, t), hs in pairs]


def test_a_demand_without_a_question_mark_asks() -> None:
    """ "... without your date of birth" asks for it; "without the app" asks for nothing."""
    ask = "I cannot authenticate you for this fraud report without your date of birth."
    assert expectation(ask) & Expect.BIRTH
    demand = "It's a security question. Without it I cannot go on."
    assert expectation(demand) & Expect.CREDENTIAL
    assert expectation("You can pay without the app.") == Expect.NOTHING
    dob = _hits(("agent", ask), ("customer", "well try june or july 15th of 1929"))[-1]
    assert dob == [("july 15th of 1929", "id")]


def test_of_course_before_a_number_is_no_amount() -> None:
    """ "of" right before a number says an amount ("a fee of 450000"); "Of course, 95381901"
    answers the question."""
    assert _hits(("agent", _ACCOUNT), ("customer", "Of course, 95381901"))[-1] == [
        ("95381901", "id")
    ]
    assert _hits(("customer", "it came to a fee of 450000"))[-1] == []
