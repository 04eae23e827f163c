"""Answers that open a longer turn: the value the agent just asked for, typed first and then
talked about. A full name whose surname is also a common word ("Sarah brown my pin is 0314",
"Brian white 93418043810"), a pet's name before the story ("ha buddy! he was such a good boi").
Used by ``winnow.pii.entities``; a short turn that only gives the value is ``find_answer``'s."""

from __future__ import annotations

import re
from collections.abc import Iterator

from winnow.pii.cities import is_city
from winnow.pii.expect import Expect
from winnow.pii.lexicon import (
    CHAT_WORDS,
    is_chatter,
    is_first_name,
    is_rare,
    is_surname,
    surname_rank,
    zipf,
)
from winnow.pii.names import HEDGES, POSSESSIVE
from winnow.pii.nonpersonal import ANIMALS, INTERJECTIONS
from winnow.pii.tokens import FUNCTION, Tok, joined
from winnow.pii.types import PiiType

# Words before the value of an answer: "yes it's", "sure, my name is", "ha".
_LEAD_IN = frozenset(
    """
    yes yeah ya yep ok okay sure well so oh ah ha hah haha um uh hmm its it's it is was my
    name full the i am im i'm this here
    """.split()  # noqa: SIM905
)


def find_full_name_answer(text: str, toks: list[Tok], expect: Expect) -> Iterator[tuple[int, int]]:
    """In answer to a name question, a listed first name opening the turn and one of the most
    common surnames right after it is a full name, even when the surname is also an ordinary
    word ("Sarah brown and my PIN is 9431", "brian white account number 351531510"). Without
    the question, "Sarah brown" could be a phrase; ``names`` then only takes surnames that are
    no common words."""
    if not expect & Expect.NAME:
        return
    i = 0
    while i < len(toks) - 2 and toks[i].low in _LEAD_IN:
        i += 1
    if i + 1 >= len(toks):
        return
    first, last = toks[i], toks[i + 1]
    # A first name that is no common word ("will", "mark" lead phrases: "will call back").
    if not (first.low.isalpha() and is_first_name(first.low) and zipf(first.low) < 4.8):
        return
    if first.low in FUNCTION or is_chatter(first.low) or not joined(text, first, last):
        return
    low = last.low
    if not low.isalpha() or low in FUNCTION or low in HEDGES or low in CHAT_WORDS:
        return
    if surname_rank(low) > 1000:
        return
    if first.text[0].isupper() and last.text[0].isupper():
        return  # Title case: ``find_titled_names`` takes it
    yield first.start, last.end


_CLAUSE_END = re.compile(r"[.!?;]")


def find_opening_answer(
    text: str, toks: list[Tok], expect: Expect
) -> Iterator[tuple[int, int, PiiType]]:
    """After a security question ("what was the name of your pet?"), a short first sentence
    that, past interjections, holds one name-like word is the answer, whatever story follows
    ("ha buddy! he was such a good boi", "Oh, Rex. We had him for years")."""
    if not expect & Expect.CREDENTIAL or len(toks) <= 6:
        return  # a short turn is ``find_answer``'s
    m = _CLAUSE_END.search(text)
    if m is None:
        return
    clause = [t for t in toks if t.end <= m.start()]
    if not clause or len(clause) > 3 or len(clause) == len(toks):
        return
    words = [t for t in clause if t.low not in _LEAD_IN and t.low not in INTERJECTIONS]
    if len(words) != 1:
        return
    tok = words[0]
    low = tok.low
    if not low.isalpha() or len(low) < 2 or low in FUNCTION or low in HEDGES:
        return
    if low in CHAT_WORDS or low in ANIMALS or is_chatter(low):
        return
    z = zipf(low)
    # A listed name ("buddy", "molly"), a word no dictionary knows, or a capitalised rare word.
    named = ((is_first_name(low) or is_surname(low)) and z < 5.0) or is_rare(low)
    if named or (tok.text[0].isupper() and z < 3.5):
        yield tok.start, tok.end, PiiType.CREDENTIAL


def find_named_in_answer(text: str, toks: list[Tok], expect: Expect) -> Iterator[tuple[int, int]]:
    """Cased text answering a question for a person ("Who should the money go to?", "What is
    the name of your friend?"): each capitalised word that is a given name no dictionary
    knows ("My friend is Pranav", "Raghav. Shoot him some bucks", "Send $1,200 Pranav's way"),
    or a listed first name that is no common word, is the person's name."""
    # After a security question ("the name of your pet?") the answer is a secret, found by
    # ``find_opening_answer`` and the credential rules.
    if not expect & Expect.NAME or expect & Expect.CREDENTIAL:
        return
    if not any(ch.isupper() for ch in text):
        return
    for tok in toks:
        word, low, end = tok.text, tok.low, tok.end
        if low.endswith(POSSESSIVE):
            word, low, end = word[:-2], low[:-2], end - 2
        if len(low) < 3 or not word[0].isupper() or word.isupper() or not low.isalpha():
            continue
        if low in FUNCTION or low in CHAT_WORDS or low in INTERJECTIONS or is_city(low):
            continue
        if is_rare(low) or (is_first_name(low) and zipf(low) < 4.5):
            yield tok.start, end
