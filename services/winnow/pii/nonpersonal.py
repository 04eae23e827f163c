"""Words a name detector would take that name no person: organisations, institutions and
venues ("Bank of America", "the Royal Albert Hall"), interjections ("Gosh", "Lord Jesus!"),
terms of endearment ("good bye sweety"), titles ("Captain Nemo"), acronyms ("AI"), and
numbers that are amounts or decades ("$10 transfers", "the 1930s"). Used by
``winnow.pii.names`` and ``winnow.pii.entities``."""

from __future__ import annotations

import re

from winnow.pii.gazetteer import is_car_make
from winnow.pii.tokens import Tok as _Tok
from winnow.pii.types import PiiType

# "company name is shivaay infotech", "app name skype", "car name hyundai xcent": what the
# words after these name is no person (after "city name is" it is a place, an address part).
# Nor is a name-like word before a firm's suffix ("jackson software company", "gowri inc").
_THING_NAMED = frozenset(
    """
    company firm organisation organization office business shop store software app
    application product brand car vehicle model restaurant hotel school college bank
    """.split()  # noqa: SIM905
)
# Institutions: "Bank of America", "Sheffield University" name no person (surnames such as
# Hall or Church are left out).
_INSTITUTION = frozenset(
    """
    bank university college hospital airport museum theatre theater stadium
    """.split()  # noqa: SIM905
)
# Venues: "at the Royal Albert Hall", "the Madison Square Garden": a Title-case run after
# "the" that ends with one of these is a place, not a person (a bare "Hall" still is one).
_VENUE = frozenset(
    """
    hall arena stadium theatre theater centre center palace cathedral abbey chapel church
    gardens garden park square tower bridge gallery opera club ballroom auditorium bowl dome
    """.split()  # noqa: SIM905
)
# Exclamations typed as a turn or opening a sentence ("Lord Jesus!", "Gosh, I think ..."):
# no answer, whatever question came before.
INTERJECTIONS = frozenset(
    """
    gosh golly gee geez jeez jeepers lord jesus christ god omg oh ah aw aww ugh oops whoops
    yikes wow whoa damn dang darn heck phew shoot shucks yay hooray alas blimey crikey
    goodness gracious mercy heavens lol haha hahaha
    """.split()  # noqa: SIM905
)
# Terms of endearment and address ("good bye sweety", "such a good boi", "thanks hon"): a
# vocative or a lone word, not a name (a pet called "Pumpkin" is still taken as an answer to
# the pet question, by ``find_answer``).
ENDEARMENTS = frozenset(
    """
    sweety sweetie sweetheart sweetpea honey hon hun darling darlin dearie babe baby boo bae
    luv lovey sugar pumpkin cutie doll buddy bud pal mate chum boi champ kiddo sunshine
    """.split()  # noqa: SIM905
)
# Titles before a name ("Captain Nemo", "Uncle Bob"): the name is a value, the title is not.
TITLES = frozenset(
    """
    captain capt sir lord lady king queen prince princess duke general colonel major sergeant
    officer detective doctor professor uncle aunt auntie grandma grandpa granny nana saint
    father brother sister reverend pastor judge president senator governor mayor coach
    """.split()  # noqa: SIM905
)
# Kinds of pet ("Goldfish! we had so many"): what the pet was, not its name.
ANIMALS = frozenset(
    """
    dog dogs doggy puppy pup cat cats kitty kitten fish goldfish hamster gerbil parrot bird
    budgie canary bunny rabbit turtle tortoise snake lizard horse pony mouse rat ferret
    """.split()  # noqa: SIM905
)
_PLACE_NAMED = frozenset(["city", "town", "village", "area", "locality"])
_NAME_CUE_END = frozenset(["am", "im", "i'm", "this", "mr", "mrs", "ms", "dear", "hi", "hello"])
_FIRM_SUFFIX = frozenset(
    """
    company co infotech tech technologies technology software solution solutions pvt ltd
    limited inc corp corporation llc systems soft infosys traders enterprises industries
    musicals motors academy
    """.split()  # noqa: SIM905
)


def no_organisations(
    toks: list[_Tok], found: list[tuple[int, int, PiiType]]
) -> list[tuple[int, int, PiiType]]:
    """``found`` without the name hits that name a company, an app, a car or a city."""
    if not any(kind is PiiType.NAME for _, _, kind in found):
        return found
    lows = [t.low for t in toks]
    cars = [is_car_make(w) for w in lows]
    if not any(cars) and not any(
        w in _THING_NAMED
        or w in _FIRM_SUFFIX
        or w in _INSTITUTION
        or w in _PLACE_NAMED
        or w in _VENUE
        for w in lows
    ):
        return found
    first = {t.start: i for i, t in enumerate(toks)}
    last = {t.end: i for i, t in enumerate(toks)}
    out = []
    for s, e, kind in found:
        i, j = first.get(s), last.get(e)
        if kind is PiiType.NAME and i is not None and j is not None:
            k = i - 1
            while k >= 0 and k >= i - 2 and lows[k] in ("is", "was", "name", "called"):
                k -= 1
            if k >= 0 and lows[k] in _PLACE_NAMED:
                out.append((s, e, PiiType.ADDRESS))  # "city name is davis": a place
                continue
            if (k >= 0 and lows[k] in _THING_NAMED) or lows[j] in _FIRM_SUFFIX:
                continue
            if lows[j] in _INSTITUTION or (lows[j] in _VENUE and i and lows[i - 1] == "the"):
                continue
            # "maruti suzuki", "honda crv": a car, unless a cue made it a name ("i am mercedes").
            cued = "name" in lows[k + 1 : i] or "called" in lows[k + 1 : i]
            if cars[i] and not cued and not (k >= 0 and lows[k] in _NAME_CUE_END):
                continue
            if j + 1 < len(lows) and (lows[j + 1] in _FIRM_SUFFIX or lows[j + 1] in _INSTITUTION):
                continue
        out.append((s, e, kind))
    return out


def exclaimed(words: list[_Tok]) -> bool:
    """A short turn that is an exclamation ("Lord Jesus!", "gosh") or an acronym ("AI")."""
    return all(t.low in INTERJECTIONS for t in words) or (
        len(words) == 1 and words[0].text.isupper() and len(words[0].text) <= 3
    )


_CURRENCY = "$\u00a3\u20ac"
# What follows an amount written without a sign: "1,740 dollars", "980 bucks".
_CURRENCY_WORD = re.compile(
    r"\s?(?:dollars?|bucks|usd|euros?|eur|pounds?|gbp|quid|rupees?|inr|rs\b|cents?)\b",
    re.IGNORECASE,
)
# Thousands groups and decimals: the part of "$5,118.77" after its comma is no number of its own.
_AMOUNT_CHARS = frozenset("0123456789,.")


def is_amount(text: str, start: int, end: int) -> bool:
    """Whether the digits at ``text[start:end]`` belong to an amount of money: the whole
    number around them ("5,118.77" around "118.77") has a currency sign before it or a
    currency word after it."""
    while start > 1 and text[start - 1] in ",." and text[start - 2].isdigit():
        start -= 2
        while start and text[start - 1].isdigit():
            start -= 1
    if start and text[start - 1] in _CURRENCY:
        return True
    while end < len(text) and text[end] in _AMOUNT_CHARS and text[end - 1].isdigit():
        end += 1
    return bool(_CURRENCY_WORD.match(text, end))


def no_amounts(text: str, found: list[tuple[int, int, PiiType]]) -> list[tuple[int, int, PiiType]]:
    """``found`` without number hits that are amounts ("$10 transfers taking place" is no
    street line), decades ("the 1930s") or short numbers after an order word ("order 100
    units", "flight ticket 500", "yamaha psrf 51"): a bare or spaced order number has five
    digits or more."""
    out = []
    for s, e, kind in found:
        value = text[s:e]
        if value[:1].isdigit() and is_amount(text, s, e):
            continue
        decade = text[e : e + 1] == "s" and not text[e + 1 : e + 2].isalnum()
        if kind is PiiType.ID and value.isdigit() and decade:
            continue
        short = sum(ch.isdigit() for ch in value) < 5
        if kind is PiiType.ORDER and short and (value.isdigit() or " " in value):
            continue  # "ORD-1234", one token of letters and digits, is still an order number
        out.append((s, e, kind))
    return out


# Lodgings and housing complexes: a capitalised run holding one of these names a business a
# listing or a booking reads out ("Civic Plaza Apartments", "Homewood Suites by Hilton",
# "Savo Island Cooperative Homes"), not a person or a home address. Singular "Suite" and
# "Apartment" are unit words of an address line ("Suite 504") and are left out.
_LODGING = frozenset(
    """
    apartments suites inn hotel hotels motel hostel resort lodge homes residences
    """.split()  # noqa: SIM905
)


def no_lodgings(
    text: str, toks: list[_Tok], found: list[tuple[int, int, PiiType]]
) -> list[tuple[int, int, PiiType]]:
    """``found`` without the name and address hits that end inside a capitalised run of words
    naming a lodging (cased text only: lower-case chat has no runs to read)."""
    if not any(t.low in _LODGING and t.text[:1].isupper() for t in toks):
        return found
    runs: list[tuple[int, int]] = []  # character spans of capitalised runs with a lodging word
    i = 0
    while i < len(toks):
        if not toks[i].text[:1].isupper():
            i += 1
            continue
        j = i + 1
        while (
            j < len(toks)
            and toks[j].text[:1].isupper()
            and text[toks[j - 1].end : toks[j].start] in (" ", "-", " - ")
        ):
            j += 1
        if any(t.low in _LODGING for t in toks[i:j]):
            runs.append((toks[i].start, toks[j - 1].end))
        i = j
    return [
        (s, e, kind)
        for s, e, kind in found
        if kind not in (PiiType.NAME, PiiType.ADDRESS) or not any(a < e <= b for a, b in runs)
    ]
