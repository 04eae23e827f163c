"""Redaction of a whole conversation: each turn with what the turns before it asked for."""

from __future__ import annotations

import re

from winnow.pii.entities import Expect, turn_expectations
from winnow.pii.expect import AGENT_ROLES
from winnow.pii.lexicon import zipf
from winnow.pii.redact import find_pii
from winnow.pii.tokens import FUNCTION
from winnow.pii.types import PiiSpan, PiiType

# The normaliser joins consecutive turns of one speaker with a blank line.
_TURN_BREAK = re.compile(r"\n[ \t]*\n")


def split_turns(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each chat turn in a customer message that holds several turns
    joined by blank lines (``winnow.stages.normalise`` joins a speaker's consecutive turns
    so); a message without a blank line is one turn."""
    if "\n" not in text:
        return [(0, len(text))]
    out: list[tuple[int, int]] = []
    start = 0
    for m in _TURN_BREAK.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return out


def find_pii_in_turns(
    turns: list[tuple[str, str]], *, entities: bool = True, replies: tuple[str, ...] = ()
) -> list[list[PiiSpan]]:
    """PII hits of every turn of one conversation, ``(role, text)`` in order, then of each of
    ``replies`` (a preference pair's ``chosen`` and ``rejected``, searched with no question).

    A turn answering the other side's question ("Could I get your full name, please?") is
    searched with that question's expectation, so a bare "Jane Doe" or "9431" is taken. This is
    the one conversation-level search: ``redact_example`` (the validator, ``winnow score``)
    and ``winnow pii measure`` both call it, so what is measured is what is written.
    """
    expects = turn_expectations(turns)
    texts = [text for _, text in turns]
    hits = [find_pii(text, e, entities=entities) for text, e in zip(texts, expects, strict=True)]
    hits += [find_pii(text, Expect.NOTHING, entities=entities) for text in replies]
    if not entities:
        return hits
    hits[: len(turns)] = _codes_after_numbers(turns, hits[: len(turns)])
    sources = [answers_who(role, e) for (role, _), e in zip(turns, expects, strict=True)]
    sources += [False] * len(replies)
    return with_repeated_values(texts + list(replies), hits, sources)


def answers_who(role: str, expect: Expect) -> bool:
    """Whether a turn answers a question for a name or a secret: its names and secrets are the
    customer's (not a celebrity the customer jokes about) and are carried to later mentions."""
    if expect is Expect.NOTHING:  # the common case, without slow Flag operations
        return False
    return bool(expect & _WHO) and role.lower() not in AGENT_ROLES


_WHO = Expect.NAME | Expect.CREDENTIAL
_REPEATED = (PiiType.NAME, PiiType.CREDENTIAL)
_WORD = re.compile(r"[^\W\d_]{3,}")


def with_repeated_values(
    texts: list[str], hits: list[list[PiiSpan]], sources: list[bool]
) -> list[list[PiiSpan]]:
    """A name or a spoken secret the customer gave in answer (a hit in a ``sources`` text, see
    ``answers_who``) is that value wherever the conversation says it again, in any other turn:
    the agent's "Tyler, what is the name of your bank?" after "Tyler Jones", the story of
    "Nemo" after the pet question was answered "Nemo". Only words that are no common English
    (Zipf below 4.5) are carried: "Sarah brown" makes no later "brown" a name."""
    # Each value keeps the type it had where it was found first (a pet's name a credential).
    values: dict[str, PiiType] = {}
    for text, turn, source in zip(texts, hits, sources, strict=True):
        for h in turn if source else ():
            if h.type in _REPEATED:
                for w in _WORD.findall(text[h.start : h.end]):
                    low = w.lower()
                    if low not in FUNCTION and zipf(low) < 4.5:
                        values.setdefault(low, h.type)
    if not values:
        return hits
    pattern = re.compile(
        r"(?i)(?<![\w'])(?:" + "|".join(sorted(map(re.escape, values))) + r")(?![\w'])"
    )
    out: list[list[PiiSpan]] = []
    for text, turn, source in zip(texts, hits, sources, strict=True):
        if source:  # its own detectors judged the turn whole ("Polly like polly had a cracker")
            out.append(turn)
            continue
        more = [
            PiiSpan(m.start(), m.end(), values[m.group().lower()])
            for m in pattern.finditer(text)
            if not any(h.start < m.end() and m.start() < h.end for h in turn)
        ]
        out.append(sorted(turn + more, key=lambda h: (h.start, -h.end)) if more else turn)
    return out


_BARE_FOUR = re.compile(r"\s*\d{4}\s*")
_BARE_THREE = re.compile(r"\s*(\d{3})\s*")


def _codes_after_numbers(
    turns: list[tuple[str, str]], hits: list[list[PiiSpan]]
) -> list[list[PiiSpan]]:
    """A bare three-digit turn right after the same speaker's bare four-digit turn ("6543",
    then "238") is the next answer of an identity check (the last four of an SSN or a card,
    then a card's security code), even when the questions are not in the log; a round amount
    ("250", "300": a multiple of 50) is left."""
    previous: dict[str, str] = {}
    for i, (role, text) in enumerate(turns):
        before, previous[role] = previous.get(role), text
        m = _BARE_THREE.fullmatch(text)
        if m is None or hits[i] or before is None or not _BARE_FOUR.fullmatch(before):
            continue
        if int(m.group(1)) % 50:
            hits[i] = [PiiSpan(m.start(1), m.end(1), PiiType.ID)]
    return hits
