"""City, state and zip lines without a street ("avon ma 8569", "i am from addison 75001",
"texas austin usa", "812 chennai 600357"): the address parts a street-line rule cannot see."""

from __future__ import annotations

from collections.abc import Iterator

from winnow.pii.cities import is_city
from winnow.pii.gazetteer import COUNTRIES, STATE_CODES, STATE_PAIRS, STATES, state_at
from winnow.pii.lexicon import CHAT_WORDS, is_rare
from winnow.pii.tokens import FUNCTION as _FUNCTION
from winnow.pii.tokens import Tok as _Tok
from winnow.pii.tokens import joined as _joined

# Words after which a place name and a zip code follow ("from addison 75001").
_FROM = frozenset(["from", "city", "in", "at", "live", "living", "moved", "town"])


_STARTS = STATES | STATE_CODES | _FROM | {a for a, _ in STATE_PAIRS}


def _is_zip(low: str) -> bool:
    return low.isdigit() and 4 <= len(low) <= 6


def _zip_at(text: str, toks: list[_Tok], k: int) -> bool:
    """Is token ``k`` a zip code joined to the word before it?"""
    return k < len(toks) and _is_zip(toks[k].low) and _joined(text, toks[k - 1], toks[k])


# Words of a city's name that are English too ("south bend", "fort worth", "palm beach").
_PLACE_WORDS = frozenset(
    ["north", "south", "east", "west", "new", "old", "fort", "port", "saint", "mount", "bend"]
)


def _placed_code(text: str, toks: list[_Tok], i: int) -> bool:
    """A USPS code after "in" and a city no dictionary knows or a listed one, without a zip
    ("a gas station in ronkonkoma ny")."""
    low = toks[i].low
    if low not in STATE_CODES or low in _FUNCTION or low in CHAT_WORDS:
        return False
    start = _city_back(text, toks, i)
    return (
        0 < start < i
        and toks[start - 1].low in ("in", "at", "near")
        and all(is_rare(t.low) or is_city(t.low) for t in toks[start:i])
    )


def _zip5_at(text: str, toks: list[_Tok], k: int) -> bool:
    return _zip_at(text, toks, k) and len(toks[k].low) == 5


def _city_back(text: str, toks: list[_Tok], i: int, most: int = 3) -> int:
    """Start index of up to ``most`` city words before token ``i`` ("sugar land", "avon")."""
    while (
        i > 0
        and most > 0
        and _joined(text, toks[i - 1], toks[i], " ,")
        and toks[i - 1].low.isalpha()
        and toks[i - 1].low not in _FUNCTION
        and toks[i - 1].low not in _FROM
    ):
        i -= 1
        most -= 1
    return i


def find_regions(text: str, toks: list[_Tok]) -> Iterator[tuple[int, int]]:
    """State + zip (with the city before), state + country, place + zip after "from"/"city",
    and house number + place + 6-digit PIN code."""
    lows = [t.low for t in toks]
    n = len(toks)
    # Fast path: every rule starts at a state, a "from" word or a number.
    for i in [k for k, w in enumerate(lows) if w[0].isdigit() or w in _STARTS]:
        placed = _placed_code(text, toks, i)
        width = state_at(lows, i, placed or (i + 1 < n and _is_zip(lows[i + 1])))
        code = width == 1 and lows[i] not in STATES
        # "south bend in 46617": a code that is also a word needs a city and a 5-digit zip.
        worded = code and lows[i] in _FUNCTION
        if worded and _zip5_at(text, toks, i + 1):
            start = _city_back(text, toks, i)
            worded = not all(w in _PLACE_WORDS or is_rare(w) or is_city(w) for w in lows[start:i])
        if code and (worded or _city_back(text, toks, i) == i):
            width = 0  # "in 2019", "or 7402": a USPS code needs a city before it
        if width:
            end = i + width
            has_zip = _zip_at(text, toks, end)
            if has_zip:
                end += 1
            country = end < n and lows[end] in COUNTRIES and _joined(text, toks[end - 1], toks[end])
            if country:
                end += 1
            # A city after the state ("texas austin usa").
            if (
                not has_zip
                and not country
                and end + 1 < n
                and lows[end].isalpha()
                and lows[end] not in _FUNCTION
                and lows[end + 1] in COUNTRIES
            ):
                end += 2
                country = True
            start = _city_back(text, toks, i)
            # A turn that is only a place ("new york", "woodbridge virginia") answers "where?".
            alone = start == 0 and end == n and not code
            if (
                has_zip
                or country
                or alone
                or placed
                or (i > 0 and lows[i - 1] in ("address", "from"))
            ):
                if start == i and width == 1 and not (has_zip or country or alone):
                    continue
                yield toks[start].start, toks[end - 1].end
            continue
        # "from addison 75001", "city of columbus 43201"
        if lows[i] in _FROM and i + 2 < n:
            k = i + 1 + (lows[i + 1] == "of")
            j = k
            while j < n and j - k < 3 and lows[j].isalpha() and lows[j] not in _FUNCTION:
                j += 1
            if j > k and _zip_at(text, toks, j) and len(lows[j]) == 5:
                yield toks[k].start, toks[j].end
        # "543 madurai", "862 mumbai 4562189720": a house number and place names no English
        # word, alone in the turn or before a phone number.
        if lows[i].isdigit() and 2 <= len(lows[i]) <= 5 and (i == 0 or not lows[i - 1].isdigit()):
            j = i + 1
            while j < n and j - i <= 3 and is_rare(lows[j]) and lows[j] not in _FUNCTION:
                j += 1
            if j > i + 1 and (j == n or (lows[j].isdigit() and len(lows[j]) >= 9)):
                yield toks[i].start, toks[j - 1].end
        # "812 chennai 600357": a house number, a place, a 6-digit PIN code.
        if lows[i].isdigit() and len(lows[i]) <= 5 and i + 2 < n:
            j = i + 1
            while j < n and j - i <= 3 and lows[j].isalpha() and lows[j] not in _FUNCTION:
                j += 1
            if j > i + 1 and j < n and len(lows[j]) == 6 and lows[j].isdigit():
                yield toks[i].start, toks[j].end
