"""Answers read with the conversation around them: demands without a question mark, a full
name whose surname is a common word, a pet's name opening a story, a number after "of course",
and a value the customer gave that the conversation repeats later. Each rule next to the case
it must leave."""

from __future__ import annotations

import pytest

from winnow.events import Role
from winnow.pii.conversation import find_pii_in_turns
from winnow.pii.example import redact_example
from winnow.pii.expect import Expect, expectation
from winnow.testing.examples import make_example

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


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("Sarah brown my pin is 0314 but I forgot my account number", "Sarah brown"),
        ("brian white 93418043810 I can't remember my pin", "brian white"),
        ("yes it's Sarah brown and my PIN is 9431", "Sarah brown"),
    ],
)
def test_full_name_answer_takes_a_common_word_surname(answer: str, name: str) -> None:
    """After the name question, a first name and a very common surname that is also a word
    ("brown", "white") are one full name."""
    assert (name, "name") in _hits(("agent", _NAME), ("customer", answer))[-1]


@pytest.mark.parametrize(
    "turns",
    [
        # Without the name question, "brown" may be a colour.
        (("agent", "How can I help?"), ("customer", "Sarah brown my pin is 0314")),
        # A word after the first name that is no surname, or a common first name.
        (("agent", _NAME), ("customer", "Sarah said the card was stolen yesterday")),
        (("agent", _NAME), ("customer", "Jane will call you back later about it")),
    ],
)
def test_full_name_answer_needs_the_question_and_a_surname(turns: tuple[tuple[str, str]]) -> None:
    found = _hits(*turns)[-1]
    assert all(" " not in value for value, _ in found)


@pytest.mark.parametrize(
    ("answer", "value"),
    [("ha buddy! he was such a good boi", "buddy"), ("Oh, Rex. We had him for years", "Rex")],
)
def test_pet_name_opening_a_story_is_the_answer(answer: str, value: str) -> None:
    assert _hits(("agent", _PET), ("customer", answer))[-1] == [(value, "credential")]


@pytest.mark.parametrize(
    "turns",
    [
        (("agent", _PET), ("customer", "ha sorry! I can't remember what we called him")),
        (("agent", _PET), ("customer", "Oh well. I never had one as a kid sadly")),
        (("agent", _PET), ("customer", "Goldfish! we had so many of them back then")),
        (("agent", _PET), ("customer", "Really? why does the bank need to know that")),
        (("agent", "How can I help?"), ("customer", "ha buddy! he was such a good boi")),
    ],
)
def test_opening_words_that_are_no_pet_name_are_left(turns: tuple[tuple[str, str]]) -> None:
    assert _hits(*turns)[-1] == []


def test_a_name_given_in_answer_is_taken_where_it_is_said_again() -> None:
    """The agent's "Tyler, ..." after the customer answered "Tyler Jones"; a pet's name told
    again in a later story keeps its type."""
    hits = _hits(
        ("agent", _NAME),
        ("customer", "Tyler Jones"),
        ("agent", "Tyler, what is the name of your bank?"),
        ("agent", _PET),
        ("customer", "Nemo"),
        ("customer", "we took turns feeding nemo, he did tricks"),
    )
    assert hits[2] == [("Tyler", "name")]
    assert [v for v, _ in hits[4]] == ["Nemo"]
    assert hits[5] == [("nemo", hits[4][0][1])]


def test_only_answers_and_uncommon_words_are_carried() -> None:
    """A celebrity the customer jokes about is no answer, and a surname that is a common word
    ("brown") is not carried to "my card is brown"."""
    hits = _hits(
        ("customer", "Is this Marty Feldman? I love your films"),
        ("agent", "No, this is your assistant."),
        ("customer", "Marty, tell me a joke"),
        ("agent", _NAME),
        ("customer", "Sarah brown"),
        ("agent", "Thanks."),
        ("customer", "my card is brown"),
    )
    assert hits[2] == [] and hits[6] == []


def test_redacted_example_carries_the_answered_name_to_later_messages() -> None:
    ex = make_example(
        "First National",
        "Thanks Tyler, the report is filed.",
        rejected="Sorry Tyler, I cannot file it.",
        history=[
            (Role.ASSISTANT, _NAME),
            (Role.USER, "Tyler Jones"),
            (Role.ASSISTANT, "Tyler, what is the name of your bank?"),
        ],
    )
    redacted, _ = redact_example(ex)
    assert redacted.messages[1].content == "<NAME_1>"
    assert redacted.messages[2].content == "<NAME_1>, what is the name of your bank?"
    assert redacted.chosen == "Thanks <NAME_1>, the report is filed."
    assert redacted.rejected == "Sorry <NAME_1>, I cannot file it."


@pytest.mark.parametrize(
    "question",
    [
        "Who should the money go to?",
        "How much and to whom?",
        "Who is the recipient?",
        "Transfer money to whom?",
    ],
)
def test_a_payee_question_asks_for_a_name(question: str) -> None:
    """A question for the payee of a transfer asks for a person; "Who would you like to speak
    to?" does not (a department answers it as often as a name)."""
    assert expectation(question) & Expect.NAME
    assert not expectation("Who would you like to speak to?") & Expect.NAME


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("Raghav. Shoot him some bucks.", "Raghav"),
        ("My friend is Pranav, who I wish to transfer $1,500 to.", "Pranav"),
        ("Send $1,200 Pranav's way.", "Pranav"),
    ],
)
def test_a_given_name_no_list_knows_answers_a_payee_question(answer: str, name: str) -> None:
    """In cased text answering "who should the money go to?", a capitalised name that no
    dictionary knows is taken; the same words with no question are left (no evidence)."""
    asked = _hits(("agent", "Who should the money go to?"), ("customer", answer))
    assert asked[1] == [(name, "name")]
    assert _hits(("agent", "How can I help?"), ("customer", answer))[1] == []
