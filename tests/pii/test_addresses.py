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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # USPS suffixes the street rule lacked ("rapid", "ramp", "beach") and numbered roads.
        ("1186 alice rapid smithmouth hawaii 23026", "<ADDRESS>"),
        ("9865 route 118 farmingdale ny 675", "<ADDRESS>"),
        ("1950 hwy 6 sugar land tx 77478 usa", "<ADDRESS>"),
        # A turn that is an address ending at a listed city or state.
        ("juhu beach mumbai", "<ADDRESS>"),
        ("gandhi 789 delhi us", "<ADDRESS>"),
        ("miami 20130", "<ADDRESS>"),
        ("goa and 130691", "<ADDRESS>"),
        ("mani street arasankuttai salem 636111", "<ADDRESS>"),
        # A city close after "address is"; "no" and a house number after "address".
        ("my new address is windsor hills kolkata india", "my new address is <ADDRESS>"),
        ("my new address no 19 kodambakkam chennai 34", "my new address <ADDRESS>"),
        # A state's code ending a named street line, or after "in" and a city.
        ("change it to geller st springfield oh", "change it to <ADDRESS>"),
        ("the gas station in ronkonkoma ny at 450 pm", "the gas station in <ADDRESS> at 450 pm"),
        ("south bend in 46617", "<ADDRESS>"),
    ],
)
def test_place_lines(text: str, expected: str) -> None:
    assert _clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "i take route 66 daily",
        "mumbai to chennai",
        "chennai",
        "i live in chicago",
        "delhi 2 persons",
        "hyderabad biryani please",
        "i paid in 12345",
        "i am in pune ok",
        "i was in la",
        "my address is no longer valid",
    ],
)
def test_cities_in_chat_stay(text: str) -> None:
    assert _clean(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A state's or a person's name before a plain street type is the street's name.
        ("michigan avenue suite 1170 chicago il 60611", "<ADDRESS>"),
        ("554 and kennedy street zl 99512", "<ADDRESS>"),
        # A direction word opening the name; a street word after it; a phone number after.
        ("change my address to new naaya bazaar hyderabad", "change my address to <ADDRESS>"),
        ("my street adders is paanisamy nagar street", "my street adders is <ADDRESS>"),
        ("muthuraja mmm shoping mall kambur us 9788990789", "<ADDRESS> <ID>"),
        # A ZIP+4 after the state, a zip after a city, a place no dictionary knows and a country.
        ("po box 34628 seattle wa 981551628 us", "<ADDRESS>"),
        ("city name athens 98705", "city name <ADDRESS>"),
        ("wasington usa", "<ADDRESS>"),
    ],
)
def test_more_street_lines(text: str, expected: str) -> None:
    assert _clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("let john drive", "let <NAME> drive"),  # "drive" after a name is a verb
        ("2 and 3 main street", "2 and <ADDRESS>"),  # a quantity, not a house number
        ("i want usa", "i want usa"),
        ("2 pizzas and 12345", "2 pizzas and <ID>"),
    ],
)
def test_street_lines_do_not_grow_over_chat(text: str, expected: str) -> None:
    assert _clean(text) == expected
