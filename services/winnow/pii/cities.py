"""Cities and a turn that answers "what is your address?" with one ("juhu beach mumbai",
"gandhi 789 delhi us", "miami 20130").

``CITIES`` holds the large cities of India and the United States, one word each (public
knowledge, not corpus strings); names that are ordinary English or common first names too
("mobile", "buffalo", "charlotte", "jackson") are left out, as a city list that matches
ordinary words would turn chat into addresses. A city alone proves nothing (a flight goes
"mumbai to chennai"): ``find_city_turn`` wants the whole turn to be an address around it.
"""

from __future__ import annotations

from collections.abc import Iterator

from winnow.pii.gazetteer import COUNTRIES, STATE_CODES, STATES, state_at, street_word
from winnow.pii.lexicon import CHAT_WORDS, is_first_name, is_rare, is_surname, zipf
from winnow.pii.tokens import FUNCTION as _FUNCTION
from winnow.pii.tokens import Tok as _Tok

CITIES = frozenset(
    """
    mumbai bombay delhi bangalore bengaluru hyderabad ahmedabad chennai madras kolkata calcutta
    surat pune jaipur lucknow kanpur nagpur indore thane bhopal visakhapatnam vizag patna
    vadodara baroda ghaziabad ludhiana agra nashik faridabad meerut rajkot varanasi srinagar
    aurangabad dhanbad amritsar allahabad prayagraj ranchi howrah coimbatore jabalpur gwalior
    vijayawada jodhpur madurai raipur guwahati chandigarh solapur hubli mysore mysuru
    tiruchirappalli trichy bareilly aligarh tiruppur gurgaon gurugram moradabad jalandhar
    bhubaneswar warangal thiruvananthapuram trivandrum guntur bikaner noida jamshedpur
    bhilai cuttack kochi cochin nellore bhavnagar dehradun durgapur asansol kolhapur ajmer
    jamnagar ujjain siliguri jhansi jammu mangalore mangaluru tirunelveli udaipur thanjavur
    vellore pondicherry puducherry tirupati karur dindigul nagercoil tuticorin thoothukudi
    kanchipuram hosur sivakasi tiruchendur kumbakonam ooty panaji shimla haridwar rishikesh
    secunderabad salem navi kalyan vasai belgaum hassan shillong imphal gangtok
    chicago houston philadelphia seattle boston detroit baltimore milwaukee albuquerque
    tucson fresno sacramento omaha raleigh miami minneapolis tulsa cleveland wichita tampa
    honolulu anaheim pittsburgh cincinnati orlando stockton newark nashville memphis
    louisville atlanta denver indianapolis jacksonville brooklyn manhattan queens bronx
    oakland spokane tacoma boise scottsdale chandler glendale henderson reno lubbock
    laredo durham greensboro knoxville chattanooga birmingham montgomery savannah
    charleston richmond norfolk syracuse rochester albany hartford providence worcester
    springfield lansing toledo akron dayton anchorage fairbanks
    """.split()  # noqa: SIM905
)

# What may stand before the city in an address answer: "in"/"at" right before it
# ("camplex in madurai"), "and" before a zip ("goa and 130691").
_LINKS = frozenset(["in", "at", "and"])
_LEADS = CHAT_WORDS | frozenset(["its", "it's", "my", "address", "is"])


def is_city(low: str) -> bool:
    """A listed city or a state ("madurai", "chicago", "texas")."""
    return low in CITIES or low in STATES


def _address_word(low: str) -> bool:
    """A word of an address line before its city: a street word, a name, a house number, a
    direction, a word no dictionary knows ("juhu", "tvs"), not ordinary English."""
    if low.isdigit():
        return len(low) <= 5
    if street_word(low) or low in COUNTRIES or is_city(low):
        return True
    if not low.isalpha() or low in _FUNCTION:
        return len(low) == 1 and low.isalpha()
    return is_rare(low) or is_first_name(low) or is_surname(low) or zipf(low) < 3.6


def find_city_turn(toks: list[_Tok]) -> Iterator[tuple[int, int]]:
    """A turn that is an address ending at a city: up to four address words before a listed
    city or state, then its state, country and zip ("juhu beach mumbai", "windsor hills kolkata
    india", "sam 202 california", "miami 20130"). A phone number may come before or after; a
    city alone, or after ordinary words, is no address."""
    if len(toks) > 16:
        return  # leads, two phone numbers and seven address words at most: a long message
    lows = [t.low for t in toks]
    a, b = 0, len(lows)
    while a < b and (lows[a] in _LEADS or (lows[a].isdigit() and len(lows[a]) >= 9)):
        a += 1
    while b > a and lows[b - 1].isdigit() and len(lows[b - 1]) >= 9:
        b -= 1
    # "yaa sure 9786995087 tvs nagar madurai": the address follows a phone number.
    phone = next(
        (k for k in range(b - 1, a - 1, -1) if lows[k].isdigit() and len(lows[k]) >= 9), -1
    )
    a = max(a, phone + 1)
    if not 2 <= b - a <= 7:
        return
    c = next((k for k in range(a, b) if is_city(lows[k])), None)
    if c is None:
        # "wasington usa": words no dictionary knows and a country ("us" is a word too).
        country = b - a <= 3 and lows[b - 1] in COUNTRIES and lows[b - 1] != "us"
        if country and all(is_rare(w) for w in lows[a : b - 1]):
            yield toks[a].start, toks[b - 1].end
        return
    end = c + 1
    while end < b and (lows[end] in COUNTRIES or state_at(lows, end, False) or is_city(lows[end])):
        end += state_at(lows, end, False) or 1
    zip_code = end < b and lows[end].isdigit() and 5 <= len(lows[end]) <= 6
    if end < b and lows[end] == "and" and end + 1 < b and lows[end + 1].isdigit():
        zip_code = 5 <= len(lows[end + 1]) <= 6
        end += 1
    if zip_code:
        end += 1
    if end < b:
        return  # words after the city that are no part of an address ("delhi 2 persons")
    before = lows[a:c]
    if c > a and before[-1] in _LINKS:
        before = before[:-1]
    if len(before) > 4 or not all(_address_word(w) for w in before):
        return
    # Evidence besides the city: a street word, a house number, a zip or a name.
    street = any(street_word(w) for w in before)
    number = any(w.isdigit() and 2 <= len(w) <= 5 for w in before)
    named = any(w.isalpha() and len(w) > 1 and not is_city(w) for w in before)
    if not (street or number or zip_code or (named and end > c + 1)):
        return
    if not before and lows[c] in STATE_CODES:
        return
    yield toks[a].start, toks[end - 1].end
