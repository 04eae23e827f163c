"""Words and numbers a detector would take that are no personal data (interjections, terms of
endearment, titles, venues, amounts, decades, short order-like numbers), each next to the
personal value that the same rule must still take; and the identity-check code rule."""

from __future__ import annotations

import pytest

from winnow.pii.conversation import find_pii_in_turns

_ACCOUNT = "Can I get your account number and PIN please?"
_PET = "And what was the name of the pet you had as a child?"
_MAIDEN = "What was your mother's maiden name?"


def _hits(*turns: tuple[str, str]) -> list[tuple[str, str]]:
    """(text, type) of every hit in the last turn of a conversation."""
    found = find_pii_in_turns(list(turns))[-1]
    text = turns[-1][1]
    return [(text[h.start : h.end], h.type.value) for h in found]


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        # An interjection typed as a whole answer is no name; a name answer still is.
        ((("agent", _ACCOUNT), ("customer", "Lord Jesus!")), []),
        (
            (("agent", "Could I get your full name, please?"), ("customer", "Jesus Garcia")),
            [("Jesus Garcia", "name")],
        ),
        # Terms of endearment: a vocative or a lone word is no name; a name after "bye" is.
        ((("agent", "Thank you and goodbye."), ("customer", "good bye sweety.")), []),
        (
            (("agent", "Thank you and goodbye."), ("customer", "good bye Suzanne.")),
            [("Suzanne", "name")],
        ),
        ((("agent", _PET), ("customer", "he was such a good boi")), []),
        # ... but a pet called Pumpkin, given as the answer, is the security answer.
        ((("agent", _PET), ("customer", "pumpkin")), [("pumpkin", "name")]),
        # An acronym is no name; a short name is.
        ((("customer", "Who are you"), ("agent", "AI")), []),
        ((("customer", "Who are you"), ("agent", "Ali")), [("Ali", "name")]),
        # "Either!" picks a PIN and gives none; a maiden name answer is a value.
        ((("agent", "Which PIN do you choose?"), ("customer", "Either!")), []),
        ((("agent", _MAIDEN), ("customer", "Stanton")), [("Stanton", "name")]),
        # A title alone is a pet's name ("Duke", "Princess"): only before a name is it a title.
        (
            (("agent", _PET), ("customer", "Oh that was Duke. He was a good dog.")),
            [("Duke", "credential")],
        ),
        # After a security question: not the interjection, the title or who the agent is taken
        # for, but the pet's name.
        (
            (
                ("agent", _PET),
                (
                    "customer",
                    "Gosh, I forget. That's right Nemo. Like Captain Nemo. Are you Elvis?",
                ),
            ),
            [("Nemo", "credential"), ("Nemo", "credential")],
        ),
    ],
)
def test_no_name_in_exclamations_endearments_titles(
    turns: tuple[tuple[str, str], ...], expected: list[tuple[str, str]]
) -> None:
    assert _hits(*turns) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He is playing at the Royal Albert Hall tonight.", []),
        ("I spoke to Albert Hall yesterday.", [("Albert Hall", "name")]),
    ],
)
def test_venue_after_the_is_no_name(text: str, expected: list[tuple[str, str]]) -> None:
    assert _hits(("customer", text)) == expected


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        # An amount is no house number; a house number before a street word is.
        (
            (("customer", "There have been all kinds of $10 transfers taking place."),),
            [],
        ),
        ((("customer", "send it to 10 Elm Place please"),), [("10 Elm Place", "address")]),
        # A decade is no id, even once a number was asked for; a bare number then is one.
        ((("agent", "Your account number?"), ("customer", "Is this the 1930s again?")), []),
        ((("agent", "Your account number?"), ("customer", "1930")), [("1930", "id")]),
        # An ellipsis after "PIN is" is a pause: nothing follows, or the PIN does.
        ((("customer", "My PIN is...oh no, I forgot my PIN."),), []),
        ((("customer", "My PIN is...4421"),), [("4421", "secret")]),
        # Short numbers after "order" or "ticket" are amounts and models, not order numbers.
        ((("customer", "flight ticket 500"),), []),
        ((("customer", "i would like to order 10 psrew 410 keyboards"),), []),
        ((("customer", "my order number is 70021345"),), [("70021345", "order")]),
        ((("customer", "ticket ORD-1234 please"),), [("ORD-1234", "order")]),
    ],
)
def test_amounts_decades_and_pauses_are_no_values(
    turns: tuple[tuple[str, str], ...], expected: list[tuple[str, str]]
) -> None:
    assert _hits(*turns) == expected


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        # The security code after the last four digits, the questions missing from the log.
        ((("customer", "6543"), ("customer", "238")), [("238", "id")]),
        ((("customer", "6543"), ("agent", "and the code?"), ("customer", "420")), [("420", "id")]),
        # A round amount after the four digits, or a code after something else, is left.
        ((("customer", "6543"), ("customer", "250")), []),
        ((("customer", "hotel 250"), ("customer", "238")), []),
    ],
)
def test_code_after_four_digits(
    turns: tuple[tuple[str, str], ...], expected: list[tuple[str, str]]
) -> None:
    assert _hits(*turns) == expected


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        # A date of birth, asked for or said to be one, is taken whole.
        (
            (
                ("agent", "Could you provide your date of birth, please?"),
                ("customer", "Um, May 8, 1927."),
            ),
            [("May 8, 1927", "id")],
        ),
        ((("customer", "My date of birth is July 15, 1990."),), [("July 15, 1990", "id")]),
        # Other dates are left: a payment's, or one before the cue.
        ((("customer", "I paid on July 15, 1990."),), []),
        ((("agent", "When did it happen?"), ("customer", "May 8, 2020")), []),
    ],
)
def test_dates_of_birth(
    turns: tuple[tuple[str, str], ...], expected: list[tuple[str, str]]
) -> None:
    assert _hits(*turns) == expected


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        # Balances read out after an account question: the part after the thousands comma is
        # no id of its own; an account number in the same conversation still is one.
        ((("agent", _ACCOUNT), ("agent", "Your checking account has $5,118.77.")), []),
        ((("agent", _ACCOUNT), ("customer", "Send 1,740 dollars, or 980 bucks")), []),
        ((("agent", _ACCOUNT), ("customer", "It is 5118773")), [("5118773", "id")]),
        # Lodgings a listing reads out are businesses; a suite in a street line is an address.
        (
            (("agent", "Civic Plaza Apartments is a very good property in Fremont."),),
            [],
        ),
        (
            (("agent", "Please confirm: 1 room at Homewood Suites by Hilton Anaheim Resort."),),
            [],
        ),
        (
            (("customer", "I live at 12 Oak Street, Suite 504, Springfield"),),
            [("12 Oak Street, Suite 504, Springfield", "address")],
        ),
        # The plural of a weak street word ("pet", "park") needs a number after it too.
        ((("agent", "The apartment is not furnished. Sadly, pets are not allowed."),), []),
    ],
)
def test_no_value_in_amounts_lodgings_and_plural_street_words(
    turns: tuple[tuple[str, str], ...], expected: list[tuple[str, str]]
) -> None:
    assert _hits(*turns) == expected
