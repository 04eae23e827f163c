"""Mailing labels: the person or firm written before the house number ("donald m palmer 2595
pearlman avenue ...", "megasystems inc 799 e dragram suite 5 a ...") is part of the address
line, as on an envelope. ``with_addressees`` runs after the detectors of
``winnow.pii.entities`` and stretches every street line that starts at a house number over
the names right before it, and over the zip code right after it."""

from __future__ import annotations

from winnow.pii.lexicon import CHAT_WORDS, is_first_name, is_rare, is_surname
from winnow.pii.tokens import FUNCTION as _FUNCTION
from winnow.pii.tokens import Tok as _Tok
from winnow.pii.tokens import joined as _joined
from winnow.pii.types import PiiType

# A firm's legal form ends its name ("megasystems inc", "acme pvt ltd").
_FIRM_FORMS = frozenset(["inc", "ltd", "llc", "llp", "corp", "co", "pvt", "plc", "gmbh"])
# At most this many words of name before the house number.
_MOST = 4


def _addressee_word(low: str) -> bool:
    """A listed first name or surname ("palmer", "king"), a word no dictionary knows
    ("gorczany"), a firm's legal form or an initial: the words of a name on a label."""
    if not low.isalpha():
        return False
    if len(low) == 1:
        return True  # an initial; never the leftmost word (see ``_addressee_start``)
    if low in _FIRM_FORMS:
        return True
    if low in _FUNCTION or low in CHAT_WORDS:
        return False
    return is_first_name(low) or is_surname(low) or is_rare(low)


def _addressee_start(text: str, toks: list[_Tok], i: int) -> int:
    """Index of the first name word before the house number at token ``i`` (``i`` if none)."""
    k = i
    while k > 0 and i - k < _MOST and _joined(text, toks[k - 1], toks[k], " ,"):
        if not _addressee_word(toks[k - 1].low):
            break
        k -= 1
    # An initial or a legal form alone opens no name ("a 5885 barnes rd", "co 80922").
    while k < i and (len(toks[k].low) == 1 or toks[k].low in _FIRM_FORMS):
        k += 1
    return k


def _house_number_at(toks: list[_Tok], i: int) -> bool:
    """Does token ``i`` start a street line with its house number ("2595", "no 6702")?"""
    low = toks[i].low
    if low.isdigit():
        return len(low) <= 6
    return low == "no" and i + 1 < len(toks) and toks[i + 1].low.isdigit()


def with_addressees(
    text: str, toks: list[_Tok], found: list[tuple[int, int, PiiType]]
) -> list[tuple[int, int, PiiType]]:
    """``found`` plus, for each address hit that starts at a house number, the name or firm
    written right before it ("cassin dolores | 317 yolanda forges ..."), as one address."""
    if not any(kind is PiiType.ADDRESS for _, _, kind in found):
        return found  # most messages: no street line to stretch
    starts = {t.start: i for i, t in enumerate(toks)}
    ends = {t.end: i for i, t in enumerate(toks)}
    out = list(found)
    for s, e, kind in found:
        if kind is not PiiType.ADDRESS:
            continue
        i, j = starts.get(s), ends.get(e)
        if j is not None and _zip_after(text, toks, j):
            out.append((s, toks[j + 1].end, PiiType.ADDRESS))
        if i is None or i == 0:
            continue
        if _house_number_at(toks, i):
            k = _addressee_start(text, toks, i)
            if k < i:
                out.append((toks[k].start, e, PiiType.ADDRESS))
        # "554 and kennedy street zl 99512": a turn that opens with the house number and "and".
        elif i == 2 and toks[1].low == "and" and toks[0].low.isdigit() and len(toks[0].low) <= 5:
            out.append((toks[0].start, e, PiiType.ADDRESS))
    return out


def _zip_after(text: str, toks: list[_Tok], j: int) -> bool:
    """Is the token after an address's last token ``j`` its zip or PIN code ("city name
    athens 98705")?"""
    if j + 1 >= len(toks) or not _joined(text, toks[j], toks[j + 1]):
        return False
    low = toks[j + 1].low
    return low.isdigit() and 5 <= len(low) <= 6 and not toks[j].low.isdigit()
