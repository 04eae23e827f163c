"""Word tokens of conversational text, shared by the name and number detectors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from winnow.pii.lexicon import CHAT_WORDS


class Tok(NamedTuple):
    """One word or digit run: its span, its text and the text lower-cased."""

    start: int
    end: int
    text: str
    low: str


WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019\-]*[A-Za-z]|[A-Za-z]|\d+")
FUNCTION = CHAT_WORDS | frozenset(
    """
    to in on at of for from with by as be been being have has had do does did not no can
    could would should will shall may might must your our their there here then than when
    where who whom why how also just only very really too again now still yet any some all
    name number account card pin password is was were ssn id code zip street address phone
    email mail contact card credit debit policy claim order ticket booking confirmation
    """.split()  # noqa: SIM905
)


_new = tuple.__new__  # Tok(...) goes through a Python-level __new__: 3x slower per token


def tokens(text: str) -> list[Tok]:
    """Words (letters, inner apostrophes and hyphens) and digit runs of ``text``."""
    # A tuple per token and one lower() for the whole text: this runs on every message.
    low = text.lower()
    return [
        _new(Tok, (s, e, text[s:e], low[s:e])) for s, e in (m.span() for m in WORD.finditer(text))
    ]


def cue_matches(
    pattern: re.Pattern[str], text: str, toks: list[Tok], triggers: frozenset[str]
) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` that start at a token whose word is in ``triggers``.

    The cue patterns are long alternations, slow to scan over a whole support answer; trying
    them only where a cue word starts is the same result (each starts with one of its
    ``triggers``) for a fraction of the work."""
    for tok in toks:
        low = tok.low
        if low in triggers or ("'" in low and low.split("'", 1)[0] in triggers):
            m = pattern.match(text, tok.start)
            if m is not None:
                yield m


def joined(text: str, a: Tok, b: Tok, allow: str = " ") -> bool:
    """True when only 1-3 of the ``allow`` characters separate ``a`` and ``b``."""
    gap = text[a.end : b.start]
    return 0 < len(gap) <= 3 and all(ch in allow for ch in gap)
