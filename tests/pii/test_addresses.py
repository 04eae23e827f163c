"""Address lines the street rules of ``winnow.pii.entities`` grow into: the addressee before
the house number, numbered highways, known cities and place answers; and what stays."""

from __future__ import annotations

import pytest

from winnow.pii.redact import redact_pii


def _clean(text: str) -> str:
    return redact_pii(text, entities=True).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The person or firm on the label's first line belongs to the address line.
        ("donald m palmer 2595 pearlman avenue sudbury ma 01776 usa", "<ADDRESS>"),
        ("megasystems inc 799 e dragram suite 5 a tucson az 85705", "<ADDRESS>"),
        ("address karan chopra no 6702 4 th lane jenten street kl area", "address <ADDRESS>"),
        ("keni a 5885 barnes rd colorado springs co 80922 usa", "<ADDRESS>"),
    ],
)
def test_addressee_before_the_house_number_is_part_of_the_address(text: str, expected: str) -> None:
    assert _clean(text) == expected


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # Ordinary words, chat words and a lone initial before the number are no addressee.
        ("please send it to 700 oak street brockton ma 2301", "please send it to"),
        ("ok thanks a 700 oak street brockton ma 2301", "ok thanks a"),
        ("the office is at 700 oak street brockton ma 2301", "the office is at"),
    ],
)
def test_words_before_the_house_number_that_name_no_one_stay(text: str, kept: str) -> None:
    assert _clean(text) == f"{kept} <ADDRESS>"
