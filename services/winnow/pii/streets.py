"""Street lines and address answers in conversational text (see ``winnow.pii.entities``):
a house number and a street type, the number after the street, PO boxes, named streets, a
turn that is only an address, and the words after "address is"."""

from __future__ import annotations

import re
from collections.abc import Iterator

from winnow.pii.cities import find_city_turn, is_city
from winnow.pii.gazetteer import (
    COUNTRIES,
    STATE_CODES,
    STATES,
    is_car_make,
    state_at,
    street_word,
    weak_street,
)
from winnow.pii.lexicon import is_first_name, is_rare, is_surname, zipf
from winnow.pii.tokens import FUNCTION as _FUNCTION
from winnow.pii.tokens import Tok as _Tok
from winnow.pii.tokens import joined as _joined

_ADDRESS_CUE = re.compile(r"(?i)\baddress(?:\s+is)?\s*[:\-]?\s+")
_ADDRESS_STOP = frozenset(
    """
    and phone ph contact number email mail my is please thanks i the card account zip
    """.split()  # noqa: SIM905
)


def _place_word(tok: _Tok, cased: bool) -> bool:
    """Could this token continue a street line (city, state, zip)?"""
    if tok.low.isdigit() or tok.low in _ADDRESS_STOP:
        return tok.low.isdigit()
    return not cased or tok.text[0].isupper()


def _place_tail(text: str, toks: list[_Tok], end: int, cased: bool, most: int) -> int:
    """Index past the city, state, zip and country that follow a street line."""
    start = end
    while (
        end < len(toks)
        and end - start < most
        and _joined(text, toks[end - 1], toks[end], " ,")
        and _place_word(toks[end], cased)
        # A phone number; nine digits after a state's code are a ZIP+4 ("wa 981551628").
        and not (
            toks[end].low.isdigit()
            and len(toks[end].low) >= 9
            and not (len(toks[end].low) == 9 and toks[end - 1].low in STATE_CODES)
        )
    ):
        end += 1
    return end


def find_streets(text: str, toks: list[_Tok], cased: bool) -> Iterator[tuple[int, int]]:
    """House number, street words up to a street-type word, then city, state and zip (words
    joined by spaces or commas only: a full stop ends the address)."""
    lows = [t.low for t in toks]
    for i, tok in enumerate(toks):
        if not (tok.low.isdigit() and len(tok.low) <= 6) and tok.low not in ("no", "#"):
            continue
        road = _numbered_road(text, toks, i)
        if road:
            yield tok.start, toks[_place_tail(text, toks, road, cased, 9) - 1].end
            continue
        for k in range(i + 1, min(len(toks), i + 6)):
            if not _joined(text, toks[k - 1], toks[k], " ,"):
                break
            if k > i + 1 and street_word(lows[k]):
                end = _place_tail(text, toks, k + 1, cased, 9)
                # A word that is mostly ordinary English ("park", "view", "hill") ends a
                # street line only when a number, a state or a country follows it.
                tail = lows[k + 1 : end]
                # Or after a name no corpus knows ("143 kani complex").
                if (
                    weak_street(lows[k])
                    and not any(
                        w.isdigit() or w in STATES or w in COUNTRIES or state_at(tail, n, True)
                        for n, w in enumerate(tail)
                    )
                    and not all(is_rare(w) for w in lows[i + 1 : k])
                ):
                    continue
                yield tok.start, toks[end - 1].end
                break
            if lows[k] in _ADDRESS_STOP:
                break


# Roads known by their number: "1950 hwy 6", "9865 route 118", "12 county road 5".
_NUMBERED_ROADS = frozenset(["route", "rte", "hwy", "highway", "sr", "fm"])


def _numbered_road(text: str, toks: list[_Tok], i: int) -> int:
    """Index past "route 118" when a house number at ``i`` is followed by a numbered road."""
    k = i + 1
    if (
        k + 1 < len(toks)
        and toks[k].low in ("county", "state", "us")
        and toks[k + 1].low
        in (
            "road",
            "rd",
            "route",
            "highway",
            "hwy",
        )
    ):
        k += 1
    if k + 1 >= len(toks) or (toks[k].low not in _NUMBERED_ROADS and k == i + 1):
        return 0
    n = toks[k + 1]
    if not (n.low.isdigit() and len(n.low) <= 4 and _joined(text, toks[i], toks[i + 1])):
        return 0
    return k + 2 if _joined(text, toks[k], n) else 0


def find_numbered_streets(text: str, toks: list[_Tok], cased: bool) -> Iterator[tuple[int, int]]:
    """A house number typed after the street ("london street number 65", "cisco street no
    12") and post-office boxes ("po box 8963 fire ma 89653"), then the city, state and zip."""
    lows = [t.low for t in toks]
    n = len(toks)
    for k in range(1, n - 1):
        low = lows[k]
        box = low == "box" and lows[k - 1] in ("po", "p.o", "pob")
        if not box and not (street_word(low) and not weak_street(low)):
            continue
        j = k + 1
        if not box and lows[j] in ("number", "no", "num", "#") and j + 1 < n:
            j += 1
        elif not box:
            continue
        if not (lows[j].isdigit() and len(lows[j]) <= 6 and _joined(text, toks[j - 1], toks[j])):
            continue
        i = k - 1
        if not box and (lows[i] in _FUNCTION or lows[i] in _ADDRESS_STOP or lows[i].isdigit()):
            continue  # "the street number 5" is no address
        end = _place_tail(text, toks, j + 1, cased, 6)
        yield toks[i].start, toks[end - 1].end


_DIRECTION = frozenset(["north", "south", "east", "west", "new", "old", "e", "w", "n", "s"])


def find_place_turn(text: str, toks: list[_Tok]) -> Iterator[tuple[int, int]]:
    """A turn that is only an address: a street-type word, even an ordinary one ("complex",
    "mall"), among names no dictionary knows, a house number, directions, states and
    countries ("muthuraja 143 complex pune", "gokul complex madurai", "memorial street")."""
    # "muthuraja mmm shoping mall kambur us 9788990789": a phone number after the address.
    while len(toks) > 2 and toks[-1].low.isdigit() and len(toks[-1].low) >= 9:
        toks = toks[:-1]
    lows = [t.low for t in toks]
    # "no 87 thav hukkam va 65": "no" and a house number, then names no dictionary knows.
    if (
        3 <= len(toks) <= 7
        and lows[0] == "no"
        and lows[1].isdigit()
        and len(lows[1]) <= 5
        and any(zipf(w) < 3.0 and w.isalpha() for w in lows[2:])
        and all(
            w.isdigit() or (w.isalpha() and (zipf(w) < 3.0 or w in STATE_CODES)) for w in lows[2:]
        )
    ):
        yield toks[0].start, toks[-1].end
        return
    yield from _numbered_place_turn(toks, lows)
    yield from find_city_turn(toks)
    if not 2 <= len(toks) <= 7 or not any(street_word(t.low) for t in toks[1:]):
        return
    rare = plain = 0
    for k, low in enumerate(lows):
        if street_word(low) and k > 0:
            continue
        if low in COUNTRIES and k == len(lows) - 1:
            continue  # "... kambur us": the country at the end
        if low in _FUNCTION:
            return
        if low.isalpha() and zipf(low) < 3.0:  # no English word, or one mistyped ("shoping")
            rare += 1
        elif not (
            (low.isdigit() and len(low) <= 6)
            or low in _DIRECTION
            or low in STATES
            or low in COUNTRIES
        ):
            if zipf(low) >= 5.0:  # "next street", "the mall": ordinary talk
                return
            plain += 1
    # One ordinary word may be a place ("pune") or, before a strong street type, the street's
    # name ("memorial street"); two names no dictionary knows carry two ordinary words
    # ("muthuraja mm shopping mall kambur us").
    strong = len(lows) == 2 and street_word(lows[1]) and not weak_street(lows[1])
    if (plain <= 1 and (rare or strong)) or (rare >= 2 and plain <= 2):
        yield toks[0].start, toks[-1].end


_YEARLIKE = re.compile(r"(?:19|20)\d\d")
_YES = frozenset(["yes", "yeah", "ya", "ok", "okay", "sure", "its", "it's"])
_AFTER_NUMBER = frozenset(["th", "st", "nd", "rd", "gb", "mb", "tb", "kg", "km", "pc", "pcs"])


def _numbered_place_turn(toks: list[_Tok], lows: list[str]) -> Iterator[tuple[int, int]]:
    """A turn that is a house number, an initial or a name, places no dictionary knows and a
    postal code ("98 f veppadai", "425 raj madurai", "118 p karai 600 104"), maybe after a
    phone number or a "yes". A number under 10 is a quantity ("2 agua frescas"), one like a
    year a model year ("2017 subaru forester"), and one before an ordinal or a unit a date or a
    size ("25 th seseptemb", "10 gb okab")."""
    # After a phone number ("8940561959 518 p karur 600 00") or a "yes": the address follows.
    lead = 1 if lows and (lows[0] in _YES or (lows[0].isdigit() and len(lows[0]) >= 9)) else 0
    toks, lows = toks[lead:], lows[lead:]
    if not 3 <= len(toks) <= 7 or not (lows[0].isdigit() and 2 <= len(lows[0]) <= 5):
        return
    if _YEARLIKE.fullmatch(lows[0]) or lows[1] in _AFTER_NUMBER or is_car_make(lows[1]):
        return
    k = 1
    while k < len(lows) and not lows[k].isdigit():
        k += 1
    words, tail = lows[1:k], lows[k:]
    if not 2 <= len(words) <= 4 or not all(w.isdigit() for w in tail):
        return
    rare = plain = 0
    for w in words:
        if not w.isalpha() or (w in _FUNCTION and len(w) > 1):  # an initial: "74 k ..."
            return
        if len(w) >= 4 and zipf(w) < 3.0:
            rare += 1
        elif not (len(w) == 1 or w in _DIRECTION or w in STATES or w in COUNTRIES):
            if zipf(w) >= 5.0:
                return
            plain += 1
    if rare and plain <= 1:
        yield toks[0].start, toks[-1].end


# Street types that name no verb or thing in chat: a person's or a state's name before one
# is a street's ("kennedy street", "michigan avenue"), unlike "sam drive" or "john way".
_PLAIN_TYPES = frozenset(
    ["street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "boulevard", "blvd", "nagar"]
)


def _street_name(low: str, street: str, before: int) -> bool:
    """Is ``low`` a street's name right before the street type ``street`` (``before``
    words in between): a state, a listed city, or a name that is no common word."""
    if before or street not in _PLAIN_TYPES:
        return False
    if low in STATES or is_city(low):
        return True
    return (is_surname(low) or is_first_name(low)) and zipf(low) < 4.5


def find_named_streets(text: str, toks: list[_Tok], cased: bool) -> Iterator[tuple[int, int]]:
    """A street-type word after one to three words that are not English ("nethaji nagar",
    "Primrose Lane"), then the city: a street line without a house number."""
    for k, tok in enumerate(toks):
        if not street_word(tok.low) or k == 0 or weak_street(tok.low):
            continue
        i = k
        # "madurai north street": a direction word may stand between the name and the type.
        if toks[i - 1].low in _DIRECTION and i > 1 and _joined(text, toks[i - 2], toks[i - 1]):
            i -= 1
        while (
            i > 0
            and k - i < 3
            and _joined(text, toks[i - 1], toks[i], " ,")
            and (
                is_rare(toks[i - 1].low)
                or (cased and toks[i - 1].text[0].isupper())
                or _street_name(toks[i - 1].low, tok.low, k - i)
            )
            and toks[i - 1].low not in _FUNCTION
        ):
            i -= 1
        if i < k and toks[i].low in _DIRECTION:
            i += 1  # the direction word alone is no street name
        if i == k:
            continue
        # "new naaya bazaar": a direction word opens the name.
        if i > 0 and toks[i - 1].low in _DIRECTION and _joined(text, toks[i - 1], toks[i]):
            i -= 1
        end = k + 1
        while (
            end < len(toks)
            and end - k <= 4
            and _joined(text, toks[end - 1], toks[end], " ,")
            and _place_word(toks[end], cased)
            and (
                toks[end].low.isdigit()
                or is_rare(toks[end].low, 4.0)
                or cased
                or is_city(toks[end].low)
                or street_word(toks[end].low)
                # "geller st springfield oh": a state's code ends the turn
                or (toks[end].low in STATE_CODES and end + 1 == len(toks))
                # "daulat ganj new delhi": a direction word before a place name
                or (
                    toks[end].low in _DIRECTION
                    and end + 1 < len(toks)
                    and is_rare(toks[end + 1].low, 4.0)
                )
            )
        ):
            end += 1
        yield toks[i].start, toks[end - 1].end


def find_cued_address(text: str, toks: list[_Tok], cased: bool) -> Iterator[tuple[int, int]]:
    """ "address is 85 five way building ...": the words after the cue, up to a stop word or
    the end of the sentence, when the first is a number, a capitalised or a non-English word."""
    starts = {t.start: i for i, t in enumerate(toks)}
    for m in _ADDRESS_CUE.finditer(text):
        if m.group()[0] == "A" and not re.search(r"(?:is|:)\s*$", m.group()):
            continue  # "Address Book", "Shipping Address" option: an interface label
        i = starts.get(m.end())
        if i is None or toks[i].low in _ADDRESS_STOP:
            continue
        # "address no 19 kodambakkam chennai": "no" and a house number open the line.
        house = toks[i].low == "no" and i + 1 < len(toks) and toks[i + 1].low.isdigit()
        if toks[i].low in _FUNCTION and not house:
            continue
        first = toks[i]
        if first.low.isdigit() and text[first.end : first.end + 1] in (".", ")"):
            continue  # "your address:  1. Start by ...": a numbered step
        # "address is windsor hills kolkata india": a listed city or state close after the cue.
        placed = state_at([t.low for t in toks[i : i + 2]], 0, False) > 0 or any(
            is_city(t.low) for t in toks[i : i + 4]
        )
        # "address western street", "address s gartner ave": a street type right after the
        # first word (or after a direction and a name).
        at = i + 2 if first.low in _DIRECTION else i + 1
        typed = (
            at < len(toks)
            and street_word(toks[at].low)
            and not weak_street(toks[at].low)
            and _joined(text, toks[at - 1], toks[at])
        )
        if not (
            first.low.isdigit()
            or house
            or placed
            or typed
            or is_rare(first.low)
            or (cased and first.text[0].isupper())
        ):
            continue
        j = i + 1
        while (
            j < len(toks)
            and j - i < 12
            and toks[j].low not in _ADDRESS_STOP
            and _joined(text, toks[j - 1], toks[j], " ,")
        ):
            j += 1
        yield toks[i].start, toks[j - 1].end


_UNIT_WORDS = frozenset(["flat", "suite", "apt", "apartment", "door", "plot"])


def find_units(text: str, toks: list[_Tok]) -> Iterator[tuple[int, int]]:
    """A flat, suite or door and its number ("flat no 25", "suite 5 a 1204", "door 10254"):
    part of an address, joined to the street line that may follow."""
    for i, tok in enumerate(toks[:-1]):
        if tok.low not in _UNIT_WORDS:
            continue
        j = i + 1
        if toks[j].low in ("no", "number", "#") and j + 1 < len(toks):
            j += 1
        if toks[j].low.isdigit() and len(toks[j].low) <= 6 and _joined(text, toks[j - 1], toks[j]):
            yield tok.start, toks[j].end
