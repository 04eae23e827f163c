"""Place words for the address detectors: US states, USPS street suffixes, Indian street words.

Public standards, not corpus strings: the 50 states, DC and their USPS codes, and the common
street suffixes of USPS Publication 28 (Appendix C1) with their abbreviations, plus the street
words of Indian addresses (``nagar``, ``salai``...). Lower-cased, as the detectors compare.
"""

from __future__ import annotations

from functools import lru_cache

STATES = frozenset(
    """
    alabama alaska arizona arkansas california colorado connecticut delaware florida georgia
    hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts
    michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon
    pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming
    tamilnadu kerala karnataka maharashtra gujarat punjab rajasthan goa bihar odisha telangana
    """.split()  # noqa: SIM905
)
# Two-word states: the first word, then the second.
STATE_PAIRS = frozenset(
    [
        ("new", "hampshire"),
        ("new", "jersey"),
        ("new", "mexico"),
        ("new", "york"),
        ("north", "carolina"),
        ("north", "dakota"),
        ("south", "carolina"),
        ("south", "dakota"),
        ("rhode", "island"),
        ("west", "virginia"),
        ("tamil", "nadu"),
        ("andhra", "pradesh"),
        ("uttar", "pradesh"),
        ("madhya", "pradesh"),
        ("west", "bengal"),
    ]
)
# USPS codes count only right before a zip code ("avon ma 8569"): alone they are words ("in").
STATE_CODES = frozenset(
    """
    al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh
    nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy
    """.split()  # noqa: SIM905
)
COUNTRIES = frozenset(["usa", "us", "india", "uk", "canada", "america"])

# USPS Publication 28 suffixes (the common ones) and Indian street words. Words that are
# mostly ordinary English ("way", "key", "main", "close", "box") only count after a house
# number (see ``winnow.pii.streets``).
STREET = frozenset(
    """
    street st road rd avenue ave av drive dr lane ln boulevard blvd way court ct place pl
    turnpike tpke row highway hwy parkway pkwy circle cir terrace ter square sq trail trl
    crescent close main cross layout apartments apartment apt suite ste block sector gate
    bazaar market complex mall building bldg tower floor box alley aly bend bluff bluffs
    branch brook brooks burg bypass byp camp canyon cape causeway center centre ctr cliff
    cliffs club common commons corner corners cove creek crest crossing curve dale dam divide
    estate estates expressway expy extension falls ferry field fields flat flats ford forest
    forge fork forks fort freeway fwy garden gardens gateway glen glens green grove groves
    harbor haven heights hts hill hills hollow inlet island islands isle junction key keys
    knoll knolls lake lakes landing light lights loaf lock locks lodge loop manor manors
    meadow meadows mews mill mills mission motorway mount mountain mountains neck orchard
    oval overpass park parks pass passage path pike pine pines plain plains plaza plz point
    points port ports prairie ranch rapids rest ridge ridges river run shoal shoals shore
    shores skyway spring springs spur station stravenue stream summit throughway trace track
    trafficway tunnel turnpike underpass union valley viaduct view views village ville vista
    walk wall well wells nagar colony salai puram pet palayam kottai kovil ganj sadak marg
    chowk bagh vihar enclave residency layout extn anex arcade bayou beach bridge crossroad
    radial ramp rapid rue
    """.split()  # noqa: SIM905
)
# Street words that are ordinary English or chat too often to end a street line on their own.
WEAK_STREET = frozenset(
    """
    main close way box key run pass point well rest park light lights green view views field
    fields spring union track trace walk wall mission lock loop center centre club common
    camp bend port forest island river lake lakes hill hills store mount block floor
    building tower market mall complex gate cross station pet bridge arcade apartment
    apartments
    """.split()  # noqa: SIM905
)
# A street word glued to what follows in unpunctuated chat ("streetmanchester").
_GLUE_PREFIXES = (
    "street", "avenue", "road", "drive", "nagar", "salai", "lane", "boulevard", "colony",
    "ave", "rd", "dr", "st",
)  # fmt: skip


def weak_street(low: str) -> bool:
    """A street word that is mostly ordinary English, or its plural ("pets", "parks")."""
    return low in WEAK_STREET or (low.endswith("s") and low[:-1] in WEAK_STREET)


@lru_cache(maxsize=65536)
def street_word(low: str) -> bool:
    """A street-type word or its plural ("forges"), or one glued to the next word
    ("avenuemanchestorconnecticut", "rdcicero") that is no English word ("drama")."""
    if low in STREET or (low.endswith("s") and low[:-1] in STREET):
        return True
    from winnow.pii.lexicon import large_zipf

    return len(low) > 5 and low.startswith(_GLUE_PREFIXES) and large_zipf(low) < 1.0


def state_at(lows: list[str], i: int, zip_next: bool) -> int:
    """Number of tokens (0, 1 or 2) of a state name starting at ``lows[i]``; a USPS code
    counts only when ``zip_next`` (a zip code follows it)."""
    low = lows[i]
    if i + 1 < len(lows) and (low, lows[i + 1]) in STATE_PAIRS:
        return 2
    if low in STATES or (zip_next and low in STATE_CODES):
        return 1
    return 0


# Car makes (the common ones sold in the US and India): a turn that answers "which car?" with
# "maruti suzuki" or "honda crv" names no person.
CAR_MAKES = frozenset(
    """
    maruti suzuki honda toyota hyundai nissan ford audi bmw mercedes benz skoda kia tata
    mahindra volkswagen vw chevrolet chevy renault jeep subaru mazda lexus volvo tesla fiat
    porsche jaguar datsun mitsubishi dodge chrysler buick cadillac acura infiniti lincoln
    """.split()  # noqa: SIM905
)


@lru_cache(maxsize=65536)
def is_car_make(low: str) -> bool:
    """A car make, or one mistyped by one letter ("maruthi", "hundai") that is no listed name."""
    if low in CAR_MAKES:
        return True
    if len(low) < 5:
        return False
    from winnow.pii.lexicon import is_first_name, is_surname

    if is_first_name(low) or is_surname(low):  # "tessa", "mahendra", "handa" are people
        return False
    return any(
        len(make) >= 5 and abs(len(make) - len(low)) <= 1 and _one_edit(make, low)
        for make in CAR_MAKES
    )


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one inserted, deleted, replaced or swapped letter."""
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if len(a) > len(b):
        a, b = b, a
    k = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    return a[k:] == b[k + 1 :]
