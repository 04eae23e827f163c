"""Names, postal addresses, identifiers and spoken credentials in conversational text.

These detectors run after the pattern detectors of ``winnow.pii.redact`` (e-mails, phones,
cards... are already masked) and work on word tokens, case-insensitively, because real tickets
are often lower-cased and unpunctuated ("name hemanth", "its johnson and 2 g 4 s 6 h"):

* cues: "my name is X", "X is my name", "this is X", "call me X", salutations and sign-offs
  ("Hi Norman", "Regards, Priya"); "password is X" (also "pass word", "pw"), "my PIN is 4421",
  "mother's maiden name which is X", "security question is X", a pet's name after "dog";
  "username X"; "address is ...";
* names (``winnow.pii.names``): Title-case runs led by a listed first name ("Katarina
  Miller"); lower-case words that only a name can be (``winnow.pii.lexicon``); words opening
  a turn before another value ("suganthi and 2220", "kannan j 87 g 54");
* street lines: a house number, then a USPS street suffix within five words ("700 oak street
  brockton ma 2301"); city, state and zip or PIN code lines (``winnow.pii.addresses``);
* numbers: digit groups with 6+ digits, or 3+ after an identifier word ("account", "policy",
  "ssn", "zip", "last 4 digits"...), with a short letter prefix ("clm 839", "plg 856348962");
* answers: a short turn that only gives a value (a bare number, or one to three words that are
  names or not English) is that value; when the previous turn asked for a name, an account, a
  PIN, a password or an address (``Expect``), the answer is taken on weaker evidence; a full
  name or a pet's name opening a longer answer too (``winnow.pii.answers``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from winnow.pii.addresses import find_regions
from winnow.pii.answers import (
    find_full_name_answer,
    find_named_in_answer,
    find_opening_answer,
)
from winnow.pii.birth import find_birth_dates
from winnow.pii.expect import Expect, expectation, turn_expectations
from winnow.pii.gazetteer import is_car_make
from winnow.pii.lexicon import is_first_name, is_rare, is_surname, zipf
from winnow.pii.mailing import with_addressees
from winnow.pii.names import (
    HEDGES,
    find_answer,
    find_cued_names,
    find_lead_name,
    find_lone_names,
    find_titled_names,
    with_initials,
)
from winnow.pii.nonpersonal import ANIMALS, INTERJECTIONS, TITLES, no_amounts, no_lodgings
from winnow.pii.nonpersonal import no_organisations as _no_organisations
from winnow.pii.places import (
    CODE,
    CODE_TRIGGERS,
    LOCAL_PHONE,
    LOCAL_PHONE_TRIGGERS,
    find_codes,
    find_numbers,
    find_spoken_numbers,
)
from winnow.pii.streets import (
    find_cued_address,
    find_named_streets,
    find_numbered_streets,
    find_place_turn,
    find_streets,
    find_units,
)
from winnow.pii.tokens import FUNCTION as _FUNCTION
from winnow.pii.tokens import Tok as _Tok
from winnow.pii.tokens import cue_matches
from winnow.pii.tokens import joined as _joined
from winnow.pii.tokens import tokens as _tokens
from winnow.pii.types import PiiType

__all__ = ["Expect", "expectation", "find_entities", "turn_expectations"]

_CREDENTIAL_CUE = re.compile(
    r"(?i)\b(?:(?:one time )?password|passcode|pass code|pa+s+[aeo]? ?w[a-z]{0,4}[dt][a-z]?|pw|"
    r"pin(?: number| code| no)?|otp|"
    r"security (?:answer|word|questions?(?: answer)?)|answer|maiden(?: name)?|"
    r"(?:pets?|dog|cat|puppy)(?:'s)?(?:\s+name)?|secret word)"
    r"(?:\s+(?:which|that))?(?:\s+(?:is|was|are))?\s*[:=\-,]?\s+"
)
_USERNAME_CUE = re.compile(
    r"(?i)\b(?:user ?name|user id|userid|login(?: id| name)?|screen name|handle)"
    r"(?:\s+(?:is|was))?\s*[:=\-]?\s+"
)


# The first word of every alternative of each cue pattern (see ``cue_matches``).
_CUE_TRIGGERS = {
    _CREDENTIAL_CUE.pattern: frozenset(
        """
        one password passcode pass pin otp security answer maiden pet pets dog cat puppy secret
        pw pasword passowrd passwort paassword passwrd pasword pssword
        """.split()  # noqa: SIM905
    ),
    _USERNAME_CUE.pattern: frozenset(["user", "username", "userid", "login", "screen", "handle"]),
}


_PASSWORD_TYPO = re.compile(r"pa+s+[aeo]?w[a-z]{0,4}[dt][a-z]?")
_SAID = re.compile(r"(?:\b(?:is|was|are)|[:=])\s*$")


def _value_after(
    cue: re.Pattern[str], text: str, toks: list[_Tok], two: bool = True
) -> Iterator[tuple[int, int]]:
    starts = {t.start: i for i, t in enumerate(toks)}
    triggers = _CUE_TRIGGERS[cue.pattern]
    if cue is _CREDENTIAL_CUE:  # mistyped "password": "passward", "passowrd", "passwort"
        typos = {t.low for t in toks if t.low.startswith("pas") and _PASSWORD_TYPO.fullmatch(t.low)}
        triggers = triggers | typos if typos else triggers
    for m in cue_matches(cue, text, toks, triggers):
        i = starts.get(m.end())
        if i is None:
            continue
        low = toks[i].low
        if low.isdigit() and text[toks[i].end : toks[i].end + 2] in (". ", ".", ") "):
            continue  # "recover your password:  1. Go to ...": a numbered step
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        # "password is 7 w 9 xq", "password 8 fythp": a digit that starts a code of groups.
        spaced = (
            nxt is not None
            and (nxt.low.isdigit() or (two and nxt.low.isalpha() and _code_word(nxt.low)))
            and _joined(text, toks[i], nxt)
        )
        if len(low) == 1 and low.isdigit() and not spaced:
            continue  # "security answer 2 please": which answer, not its value
        said = bool(_SAID.search(m.group()))
        end = toks[i].end
        # "raj 123": a word and digits typed as one password.
        glued = two and nxt is not None and nxt.low.isdigit() and _joined(text, toks[i], nxt)
        # "your PIN as well", "the password you gave": words after the cue that are ordinary
        # English are no value; after "is"/":" a word is one unless it is a function word, and
        # a name is one anyway ("childhood pet charlie").
        # A pet's name ("charlie"), a maiden name ("sanchez").
        named = (is_first_name(low) or is_surname(low)) and zipf(low) < 4.5
        plain = (low in _FUNCTION and not glued) or (
            zipf(low) >= (5.0 if said else 3.0) and not named and not glued
        )
        # The cue near the end of a short turn: the words after it are the value, whatever
        # they spell, when one of them is no English word ("password vintage lat",
        # "pasword veram star"), none is a function word and the turn stops there.
        rest = toks[i:]
        to_end = (
            two
            and len(rest) <= 4
            and len(toks) <= 10
            and any(is_rare(t.low) or t.low.isdigit() for t in rest)
            and not any(t.low in _FUNCTION or t.low in HEDGES for t in rest)
        )
        if not any(ch.isdigit() for ch in low) and plain and not to_end:
            continue
        # "my dog is sick": after an animal, only a name-like word is a pet's name.
        animal = m.group().lower().startswith(("dog", "cat", "pup", "pet"))
        if animal and not (named or toks[i].text[0].isupper() or is_rare(low)):
            continue
        if glued and nxt is not None:
            end = nxt.end
        # A password typed in chat runs over short groups ("ewru 87 cc", "78 sidic 983").
        k = i + (2 if glued else 1)
        while two and k < len(toks) and k - i < 4 and _joined(text, toks[k - 1], toks[k]):
            part = toks[k].low
            if not (part.isdigit() or (len(part) <= 5 and _code_word(part))):
                break
            end = toks[k].end
            k += 1
        if to_end:
            end = max(end, rest[-1].end)
        # A password runs to the next space, punctuation included ("Tr0ub4dor&3").
        while end < len(text) and not text[end].isspace() and text[end] not in ".,;!?\x00":
            end += 1
        yield toks[i].start, end


def _code_word(low: str) -> bool:
    """Letters typed as part of a code ("cc", "sidic"), not a word that ends the value."""
    return low not in _FUNCTION and low not in HEDGES and (zipf(low) < 3.5 or len(low) <= 2)


def find_entities(text: str, expect: Expect = Expect.NOTHING) -> list[tuple[int, int, PiiType]]:
    """Name, address, identifier, username and credential spans (may overlap; caller merges)."""
    toks = _tokens(text)
    if not toks:
        return []
    cased = any(ch.isupper() for ch in text)
    found: list[tuple[int, int, PiiType]] = []
    found += [(s, e, PiiType.CREDENTIAL) for s, e in _value_after(_CREDENTIAL_CUE, text, toks)]
    found += [(s, e, PiiType.USERNAME) for s, e in _value_after(_USERNAME_CUE, text, toks, False)]
    digits = any(t.low[0].isdigit() for t in toks)
    if digits:  # ids, local phones, house numbers and codes all need a digit
        found += [
            (m.start("v"), m.end("v"), PiiType.ORDER if m.group("order") else PiiType.ID)
            for m in cue_matches(CODE, text, toks, CODE_TRIGGERS)
        ]
        found += [
            (m.start("v"), m.end("v"), PiiType.PHONE)
            for m in cue_matches(LOCAL_PHONE, text, toks, LOCAL_PHONE_TRIGGERS)
        ]
        found += [(s, e, PiiType.ADDRESS) for s, e in find_streets(text, toks, cased)]
        found += [(s, e, PiiType.ADDRESS) for s, e in find_numbered_streets(text, toks, cased)]
        found += [(s, e, PiiType.ID) for s, e in find_spoken_numbers(text)]
    found += [(s, e, PiiType.ADDRESS) for s, e in find_regions(text, toks)]
    found += [(s, e, PiiType.ADDRESS) for s, e in find_cued_address(text, toks, cased)]
    found += [(s, e, PiiType.ADDRESS) for s, e in find_named_streets(text, toks, cased)]
    found += [(s, e, PiiType.ADDRESS) for s, e in find_place_turn(text, toks)]
    found += [(s, e, PiiType.ADDRESS) for s, e in find_units(text, toks)]
    short = len(toks) <= 8
    numbers_expected = bool(expect & (Expect.NUMBER | Expect.CREDENTIAL | Expect.ASKED_BEFORE))
    # "my PIN is ... " anywhere in the turn: 4-digit numbers in it count as answers.
    short = short or bool(_NUMBER_TALK.search(text))
    if digits:
        found += list(find_numbers(text, toks, short or numbers_expected, numbers_expected))
        found += [(s, e, PiiType.ID) for s, e in find_codes(text, toks, short or numbers_expected)]
    found += [(s, e, PiiType.NAME) for s, e in find_cued_names(text, toks, cased)]
    if cased:
        found += [(s, e, PiiType.NAME) for s, e in find_titled_names(text, toks)]
    found += [(s, e, PiiType.NAME) for s, e in find_lone_names(text, toks, cased)]
    found += list(find_answer(toks, expect))
    if expect is not Expect.NOTHING and expect & _WHO:  # (Flag operations are slow)
        found += [(s, e, PiiType.NAME) for s, e in find_full_name_answer(text, toks, expect)]
        found += list(find_opening_answer(text, toks, expect))
        found += [(s, e, PiiType.NAME) for s, e in find_named_in_answer(text, toks, expect)]
    found += [(s, e, PiiType.NAME) for s, e in find_lead_name(text, toks)]
    found = no_amounts(text, found)
    found += [(s, e, PiiType.ID) for s, e in find_birth_dates(text, expect)]
    if cased and expect & Expect.CREDENTIAL:
        found += [(s, e, PiiType.CREDENTIAL) for s, e in _titled_answers(text, toks)]
    if digits and len(toks) <= 7:
        found += list(_code_after_name(text, toks, found))
    if digits and 2 <= len(toks) <= 4:
        found += [(s, e, PiiType.ID) for s, e in _code_turn(text, toks)]
    found = no_lodgings(text, toks, _no_organisations(toks, found))
    found = _house_numbers(text, with_initials(text, toks, found))
    return with_addressees(text, toks, found)  # "donald m palmer | 2595 pearlman avenue


def _code_after_name(
    text: str, toks: list[_Tok], found: list[tuple[int, int, PiiType]]
) -> Iterator[tuple[int, int, PiiType]]:
    """A short turn that is a name and then a code ("john 458", "billa 2019", "serena sere
    72", "williams and 5489 lk") answers "your name and password/account": the code is one too.
    """
    # The name may follow a lead-in ("name anitha and 8500", "its john 458").
    k = 0
    while k < len(toks) - 2 and toks[k].low in _NAME_LEAD:
        k += 1
    first = toks[k].start
    lead = max((e for s, e, kind in found if kind is PiiType.NAME and s == first), default=0)
    if not lead:
        return
    i = next((k for k, t in enumerate(toks) if t.start >= lead), len(toks))
    # "ganesh ganshk 56": the name ran over the code's letters, a word no list knows.
    last = toks[i - 1].low
    if i - k >= 2 and i < len(toks) and toks[i].low.isdigit() and is_rare(last):
        i -= 1 if not (is_first_name(last) or is_surname(last)) else 0
    if i < len(toks) and toks[i].low in ("and", "&", "n"):
        i += 1
    rest = toks[i:]
    if not rest or not any(t.low.isdigit() for t in rest):
        return
    if not all(
        t.low.isdigit() or ((len(t.low) <= 8 or is_rare(t.low)) and _code_word(t.low)) for t in rest
    ):
        return
    numbers = [t.low for t in rest if t.low.isdigit()]
    # Quantities ("fries 1"), model years ("honda crv 2016") and dates are no codes.
    # Fewer digits do with letters no dictionary knows ("frty 65 rt", "fgfd 4 shs") or a
    # leading zero ("billa 07"), which no quantity has.
    lettered = any(t.low.isalpha() and len(t.low) >= 3 and is_rare(t.low) for t in rest)
    # ... or letters and digits together long enough for a code ("allen and sf 51").
    lettered = lettered or (
        any(t.low.isalpha() for t in rest) and sum(len(t.low) for t in rest) >= 4
    )
    zero = any(n.startswith("0") for n in numbers)
    if sum(map(len, numbers)) < 3 and not lettered and not zero:
        return
    if any(_YEARISH.fullmatch(n) for n in numbers):
        return
    if any(t.low in _UNITS for t in rest) or toks[0].low in _MONTHS:
        return
    around = text[rest[0].start - 1 : rest[0].start] + text[rest[-1].end : rest[-1].end + 1]
    if any(ch in "$£€" for ch in around):
        return  # "rebate $1499": an amount
    yield rest[0].start, rest[-1].end, PiiType.ID


def _code_turn(text: str, toks: list[_Tok]) -> Iterator[tuple[int, int]]:
    """A short turn that is only words no dictionary knows and digits ("uiiiu 99", "jj 55
    sukf", "vinayak 007"): a code typed as an answer (a password, an account), not a year, an
    amount ("rebatingg $1499") or a round model number ("psrew 400")."""
    numbers = [t.low for t in toks if t.low.isdigit()]
    words = [t.low for t in toks if not t.low.isdigit()]
    if not numbers or not words or sum(map(len, numbers)) < 2:
        return
    if any(ch in "$£€" for ch in text) or (len(numbers) == 1 and numbers[0].endswith("00")):
        return
    if not all(w.isalpha() and (is_rare(w) or len(w) <= 2) and w not in _FUNCTION for w in words):
        return
    if not any(len(w) >= 3 for w in words) or any(_YEARISH.fullmatch(n) for n in numbers):
        return
    if any(w in _UNITS or w in _MONTHS or w in _ORDINAL or is_car_make(w) for w in words):
        return  # "maruti 800": a car model; "19 th jube": a date
    yield toks[0].start, toks[-1].end


_WHO = Expect.NAME | Expect.CREDENTIAL
_NAME_LEAD = frozenset(["name", "its", "it's", "this", "is", "i", "am", "im", "my", "yes", "ok"])
_YEARISH = re.compile(
    r"(?:19[5-9]\d|20[0-3]\d|[01]\d[0-3]\d(?:19|20)\d\d)"
)  # a year, a mmddyyyy date
_ORDINAL = frozenset(["st", "nd", "rd", "th"])
_UNITS = frozenset(["cc", "kg", "km", "kms", "qty", "pcs", "nos", "lbs", "gb", "mb", "hp", "ml"])
_MONTHS = frozenset(
    """
    jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june
    july august september october november december
    """.split()  # noqa: SIM905
)


def _house_numbers(
    text: str, found: list[tuple[int, int, PiiType]]
) -> list[tuple[int, int, PiiType]]:
    """A number hit right before a street line is its house number ("1422 | broadway new york
    ny 10036", "1501 hwy 14 | east selma al"): one address, not an id and an address."""
    addresses = [(s, e) for s, e, kind in found if kind is PiiType.ADDRESS]
    if not addresses:
        return found
    out = list(found)
    for s, e, kind in found:
        value = text[s:e]
        if kind is not PiiType.ID or not value[:1].isdigit() or len(value) > 12:
            continue
        for a_start, a_end in addresses:
            if s < a_start and not text[e:a_start].strip(" ,"):
                out.append((s, a_end, PiiType.ADDRESS))
                break
    return out


_NUMBER_TALK = re.compile(r"(?i)\b(?:pin|password|passcode|account (?:number|no)|ssn)\b")


def _titled_answers(text: str, toks: list[_Tok]) -> Iterator[tuple[int, int]]:
    """After a security question, capitalised words are the answer ("My poor Poppy."), outside
    questions, exclamations and titles."""
    for n, tok in enumerate(toks):
        if not tok.text[0].isupper() or tok.text.isupper() or tok.low in _FUNCTION:
            continue
        if "'" in tok.low or "\u2019" in tok.low:  # "I'm", "I'd", "Can't"
            continue
        if tok.low in INTERJECTIONS or tok.low in ANIMALS:  # "Gosh, I think", "Goldfish!"
            continue
        # "Captain Nemo": the title before a name is not the answer ("Duke." alone, a pet's
        # name, still is one).
        nxt = toks[n + 1] if n + 1 < len(toks) else None
        if tok.low in TITLES and nxt and nxt.text[0].isupper() and _joined(text, tok, nxt):
            continue
        before = text[: tok.start].rstrip()
        if before.lower().endswith((" you", " u")) and _asked(text, tok.end):
            continue  # "Are you Elvis?": who the agent is taken for, not the answer
        initial = not before or before[-1] in ".!?"
        if not initial or zipf(tok.low) < 4.0:
            yield tok.start, tok.end


def _asked(text: str, start: int) -> bool:
    """Whether the sentence going on at ``start`` ends with a question mark."""
    ends = [i for i in (text.find(ch, start) for ch in ".!\n") if i >= 0]
    return 0 <= text.find("?", start) < min(ends, default=len(text))
