"""Numbers and codes in conversational text (see ``winnow.pii.entities``); street lines and
address answers are in ``winnow.pii.streets``."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import lru_cache

from winnow.pii.lexicon import is_first_name, zipf
from winnow.pii.tokens import FUNCTION as _FUNCTION
from winnow.pii.tokens import Tok as _Tok
from winnow.pii.tokens import joined as _joined
from winnow.pii.types import PiiType

CODE = re.compile(
    r"(?i)\b(?:account|acct|customer|member|client|user|policy|claim|booking|confirmation|"
    r"reference|ref|(?P<order>order|ticket|invoice|tracking))"
    r"\s*(?:id|number|no\.?|num|#|code)?\s*(?:is|was|:|#)?\s*"
    r"(?P<v>(?=[A-Z0-9\-]*\d)(?=[A-Z0-9\-]*[A-Z])[A-Z0-9][A-Z0-9\-]{4,}[A-Z0-9])\b"
)
CODE_TRIGGERS = frozenset(
    """
    account acct customer member client user policy claim booking confirmation reference ref
    order ticket invoice tracking
    """.split()  # noqa: SIM905
)
# Order, ticket, invoice and tracking numbers: a setting keeps, pseudonymises or redacts them.
ORDER_WORDS = frozenset({"order", "ticket", "invoice", "tracking", "bill"})
# A 7-digit local number ("555-7709", "my number is 555 7709") after a phone word.
LOCAL_PHONE = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|text|reach|number|contact|ph)\b"
    r"[^\n\x00]{0,24}?(?<![\d\-])(?P<v>\d{3}[\- .]?\d{4})(?![\d\-])"
)
LOCAL_PHONE_TRIGGERS = frozenset(
    [
        "phone",
        "tel",
        "telephone",
        "mobile",
        "cell",
        "call",
        "text",
        "reach",
        "number",
        "contact",
        "ph",
    ]
)
ID_WORDS = frozenset(
    """
    account acct number no num nr id ssn social security card credit debit pin password
    passcode zip zipcode postal code policy claim confirmation booking reference ref
    member customer order ticket last digits ending ends ph phone mobile contact cell
    """.split()  # noqa: SIM905
)
# Words before a sum of money or a date: "transfer 3000", "a charge of 10525", "date 05172018".
_AMOUNT_OR_DATE_BEFORE = frozenset(
    """
    transfer transferred transfering send sent pay paid charge charged charges amount sum
    cost costs price fare total spent expenses expense bill refund balance of date dated on
    jan feb mar apr jun jul aug sep sept oct nov dec january february march april june
    july august september october november december year model manufacture manufactured
    made
    """.split()  # noqa: SIM905
)
# Chat words that open a turn before a number without naming a code ("its 7777" does, "ok"
# does not).
_TALK = frozenset(["ok", "okay", "yes", "yeah", "yep", "no", "nope", "hi", "hey", "thx", "ty"])
_NOT_ID_AFTER = frozenset(
    """
    dollars dollar usd rs rupees inr gb mb kb tb mbps gbps percent pm am minutes mins
    hours hrs days months years km miles kg lbs items pieces pcs
    """.split()  # noqa: SIM905
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_YEAR_AFTER = frozenset(["model", "make", "version", "edition", "series"])


_SAID_ID = frozenset(["is", "number", "no", "num", "id", "code", "password", "confirmation"])
_NEVER_PREFIX = frozenset(
    [
        "is",
        "was",
        "are",
        "and",
        "or",
        "to",
        "of",
        "my",
        "the",
        "a",
        "an",
        "it",
        "its",
        "for",
        "in",
        "on",
        "at",
        "no",
        "yes",
        "me",
        "by",
        "be",
    ]
)


def _code_tail(low: str) -> bool:
    """Letters typed after a code's digits, not a unit or a word ("... 16 gb", "... 5 and")."""
    return (
        low.isalpha()
        and len(low) <= 3
        and low not in _FUNCTION
        and low not in _NOT_ID_AFTER
        and zipf(low) < 4.0
    )


def _is_digit_group(tok: _Tok) -> bool:
    return any(ch.isdigit() for ch in tok.low) or (len(tok.low) <= 3 and tok.low.isalpha())


def _is_date(digits: str) -> bool:
    """ddmmyy, ddmmyyyy, mmddyy, mmddyyyy or yyyymmdd with a plausible day and month."""
    if len(digits) not in (6, 8):
        return False
    if len(digits) == 8 and digits[:2] in ("19", "20") and _day_month(digits[6:], digits[4:6]):
        return True
    year_ok = len(digits) == 6 or digits[4:6] in ("19", "20")
    a, b = digits[:2], digits[2:4]
    return year_ok and (_day_month(a, b) or _day_month(b, a))


def _day_month(day: str, month: str) -> bool:
    return 1 <= int(day) <= 31 and 1 <= int(month) <= 12


def _prefix_start(text: str, toks: list[_Tok], i: int) -> int:
    """Index of a code's letter prefix before the digits at ``i`` ("fkjd 43", "plg 856348962";
    right after "number is" even a word: "op 4589"), or ``i`` when there is none."""
    if i == 0 or not _joined(text, toks[i - 1], toks[i]) or not 1 <= len(toks[i - 1].low) <= 5:
        return i
    prev = toks[i - 1].low
    said = i > 1 and toks[i - 2].low in _SAID_ID and len(prev) <= 4 and prev not in _NEVER_PREFIX
    # A turn that is only a short word and digits ("abc 256", "sec 458") answers with a code,
    # whatever the letters spell, unless they say what the number is ("dec 486", "pay 350").
    alone = i == 1 and len(toks) == 2 and 2 <= len(prev) <= 4 and prev not in _NEVER_PREFIX
    alone = alone and not (len(prev) > 2 and is_first_name(prev))  # "john 458": name, code
    said = said or (alone and prev not in _AMOUNT_OR_DATE_BEFORE and prev not in _TALK)
    if (
        prev.isalpha()
        and prev not in ID_WORDS
        and (said or (prev not in _FUNCTION and zipf(prev) < 4.0 and len(prev) > 1))
        and prev not in _NOT_ID_AFTER
    ):
        return i - 1
    return i


def _number_kind(before: set[str]) -> PiiType:
    """What a number is, by the words before it: a zip code, a PIN, an order or an id."""
    if before & {"zip", "zipcode", "postal"}:
        return PiiType.ADDRESS
    if before & {"pin", "password", "passcode"}:
        return PiiType.CREDENTIAL
    return PiiType.ORDER if before & ORDER_WORDS else PiiType.ID


def _group_end(text: str, toks: list[_Tok], i: int) -> int:
    """Index past the digit groups starting at ``i`` ("4455 6789", "12-b-7", "8945 hs")."""
    j = i + 1
    while (
        j < len(toks) and _is_digit_group(toks[j]) and _joined(text, toks[j - 1], toks[j], " -./")
    ):
        if toks[j].low.isalpha() and toks[j].low in _FUNCTION:
            break
        j += 1
    while j > i + 1 and not toks[j - 1].low.isdigit():
        j -= 1  # trailing letters ("... 16 gb") are not the value's
    # ... unless they are a code's last letters ("8945 hs", "74656 ab").
    if j < len(toks) and _code_tail(toks[j].low) and _joined(text, toks[j - 1], toks[j]):
        j += 1
    return j


def _amount_sign(text: str, first: _Tok, last: _Tok) -> bool:
    """A currency sign before or after the number ("$300", "300$")."""
    lead = text[first.start - 1] if first.start else ""
    trail = text[last.end : last.end + 1]
    return (lead != "" and lead in "$£€") or (trail != "" and trail in "$£€")


def find_numbers(
    text: str, toks: list[_Tok], answer: bool, expected: bool = False
) -> Iterator[tuple[int, int, PiiType]]:
    """Identifier-like digit groups: 6+ digits, or 3+ after an identifier word, or 4+ (3+ with
    letters) in an answer-shaped turn. ``expected``: the previous turn asked for a number or a
    PIN, so not even a year-like or round one ("3100") is left."""
    transfer = any(t.low.startswith(("transf", "tranf", "trasf")) for t in toks)
    i = 0
    while i < len(toks):
        if not toks[i].low.isdigit():
            i += 1
            continue
        j = _group_end(text, toks, i)
        digits = sum(len(t.low) for t in toks[i:j] if t.low.isdigit())
        start = _prefix_start(text, toks, i)
        before = {t.low for t in toks[max(0, start - 4) : start]}
        after = toks[j].low if j < len(toks) else ""
        cue = bool(before & ID_WORDS)
        # The two words before: "transfer 5000 to account 6985" has an id word right before
        # 6985, "transfer 3000" an amount word right before 3000.
        near = {t.low for t in toks[max(0, start - 2) : start]}
        near_id = bool(near & ID_WORDS)
        # "transfer 100 dollars from 2256 to 7894": the accounts money moves between.
        between = (
            digits >= 4
            and j == i + 1
            and start == i
            and start > 0
            and toks[start - 1].low in ("from", "to")
            and transfer
        )
        # (an amount or a date has at most 8 digits: "transferred is 7856942369" is an id)
        # "of" only right before the number ("a sum of 500"): "Of course, 95381901" is an answer.
        said = near - {"of"} if start > 0 and toks[start - 1].low != "of" else near
        said_amount = bool(said & _AMOUNT_OR_DATE_BEFORE) and not near_id and digits <= 8
        unit = _amount_sign(text, toks[i], toks[j - 1]) or after in _NOT_ID_AFTER
        unit = unit or (said_amount and not between)
        lone = toks[i].low if j == i + 1 else ""
        # "24/7", "3/4": a short fraction or day/month, not an identifier.
        fraction = j == i + 2 and text[toks[i].end : toks[i + 1].start] == "/" and digits <= 4
        # Without an identifier word, a lone year, date ("20062018") or round amount ("5000")
        # is what it looks like.
        year = (
            bool(lone)
            and not near_id
            and (not (cue or expected) or (bool(_YEAR.fullmatch(lone)) and after in _YEAR_AFTER))
            and (
                bool(_YEAR.fullmatch(lone))
                or _is_date(lone)
                or (len(lone) <= 5 and lone.endswith("00"))
            )
        )
        # "audi a 7 2017", "maruthi 800 2003": a model number and its year.
        model_year = (
            j - i >= 2
            and not near_id
            and not expected
            and bool(_YEAR.fullmatch(toks[j - 1].low))
            and digits <= 8
        )
        if (
            not unit
            and not year
            and not model_year
            and not (fraction and not near_id)
            and (
                digits >= 6
                or between
                or (digits >= 3 and cue)
                or (digits >= 2 and cue and start < i)  # "confirmation number is fkjd 43"
                or (answer and (digits >= 4 or (digits >= 3 and (start < i or j > i + 1))))
            )
        ):
            yield toks[start].start, toks[j - 1].end, _number_kind(before)
        i = j


def find_codes(text: str, toks: list[_Tok], answer: bool) -> Iterator[tuple[int, int]]:
    """Spelled-out booking codes: letters and digits alternating ("a 4 g 4 f 3", "fd 78 kr").

    Three or more short groups (digits, or at most three letters), both kinds present, changing
    kind at least twice; only in an answer-shaped turn or after an identifier word.
    """
    part = [_code_part(t.low) for t in toks]
    n, i = len(toks), 0
    while i < n:
        j = i
        while j < n and part[j] and (j == i or _joined(text, toks[j - 1], toks[j])):
            j += 1
        if j - i >= 3:
            run = toks[i:j]
            kinds = [t.low.isdigit() for t in run]
            changes = sum(a != b for a, b in itertools.pairwise(kinds))
            if changes >= 2 and any(kinds):
                cue = bool({t.low for t in toks[max(0, i - 4) : i]} & ID_WORDS)
                # Five or more groups changing kind at every step ("v 2 z 8 s 7") spell a
                # code in any sentence.
                spelled = changes >= 4 and changes == len(run) - 1 and sum(kinds) >= 3
                if (answer or cue or spelled) and not _network_generations(toks, i, j):
                    yield run[0].start, run[-1].end
        i = j if j > i else i + 1


_NETWORK_WORDS = frozenset(
    "phone phones mobile handset network networks sim data lte volte speed signal band".split()  # noqa: SIM905
)


def _network_generations(toks: list[_Tok], i: int, j: int) -> bool:
    """ "a 2 g 4 g phone": mobile network generations next to a network word, not a code
    ("its johnson and 2 g 3 g 4 g" with no such word is one)."""
    words = [t.low for t in toks[i:j]]
    if words[0] == "a":
        words = words[1:]
    pairs = list(zip(words[::2], words[1::2], strict=False))
    near = {t.low for t in toks[max(0, i - 3) : i] + toks[j : j + 2]}
    return (
        len(words) % 2 == 0
        and bool(pairs)
        and all(d in ("2", "3", "4", "5") and g == "g" for d, g in pairs)
        and bool(near & _NETWORK_WORDS)
    )


@lru_cache(maxsize=65536)
def _code_part(low: str) -> bool:
    """Digits, a mix of letters and digits, or up to three letters that are no function word."""
    if low.isdigit():
        return True
    if low.isalpha():
        return len(low) == 1 or (len(low) <= 3 and (low not in _FUNCTION or low == "no"))
    return low.isalnum()


# Digit groups with a short filler word between them ("95 as 45185 so 31914"): a long number
# read out or dictated in pieces, which chat-to-text and hurried typing leave behind.
_SPOKEN_NUMBER = re.compile(r"(?<![\w\-])\d{2,}(?:[ ]+(?:[a-z]{1,3}[ ]+)?\d{2,}){2,}(?![\w\-])")
_FILLER = re.compile(r"[ ]+([a-z]{1,3})[ ]+")
# A word that starts another value ("2721 ph 963 210 7458": a zip, then a phone number).
_NOT_FILLER = frozenset("ph tel mob no nr x ext apt ste zip pin dob ssn id".split())  # noqa: SIM905


def find_spoken_numbers(text: str) -> Iterator[tuple[int, int]]:
    """A number dictated in groups with filler words between them, taken whole: at least three
    groups, ten digits and one filler word (without one, ``find_numbers`` sees the groups), and
    not a list of amounts."""
    for m in _SPOKEN_NUMBER.finditer(text):
        value = m.group()
        groups = re.findall(r"\d+", value)
        after = text[m.end() :].split(maxsplit=1)
        if (
            sum(map(len, groups)) >= 10
            and _FILLER.search(value)
            and not any(w in _NOT_FILLER for w in _FILLER.findall(value))
            # "1500 and 2000 and 3000 rupees": amounts, round or with their unit
            and sum(not g.endswith("00") for g in groups) >= 2
            and not (after and after[0].lower() in _NOT_ID_AFTER)
        ):
            yield m.span()
