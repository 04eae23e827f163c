"""Redaction of a whole conversation: each turn with what the turns before it asked for."""

from __future__ import annotations

import re

from winnow.pii.entities import Expect, turn_expectations
from winnow.pii.redact import find_pii
from winnow.pii.types import PiiSpan, PiiType

# The normaliser joins consecutive turns of one speaker with a blank line.
_TURN_BREAK = re.compile(r"\n[ \t]*\n")


def find_pii_in_joined_turns(text: str, expect: Expect, *, entities: bool = True) -> list[PiiSpan]:
    """PII hits of a customer message that holds several chat turns joined by blank lines
    (``winnow.stages.normalise`` joins a speaker's consecutive turns so): each part is searched
    as the turn it was, so rules that read a whole short turn ("suganthi and 2220", a bare
    "jane doe" answer) still see one. The first part answers ``expect``; later parts only keep
    ``ASKED_BEFORE``, as consecutive turns of one speaker do."""
    if "\n" not in text:
        return find_pii(text, expect, entities=entities)
    out: list[PiiSpan] = []
    start = 0
    for n, m in enumerate([*_TURN_BREAK.finditer(text), None]):
        end = m.start() if m is not None else len(text)
        part_expect = expect if n == 0 else expect & Expect.ASKED_BEFORE
        out += [
            PiiSpan(start + h.start, start + h.end, h.type)
            for h in find_pii(text[start:end], part_expect, entities=entities)
        ]
        if m is not None:
            start = m.end()
    return out


def find_pii_in_turns(turns: list[tuple[str, str]]) -> list[list[PiiSpan]]:
    """PII hits of every turn of one conversation, ``(role, text)`` in order.

    A turn answering the other side's question ("Could I get your full name, please?") is
    searched with that question's expectation, so a bare "Jane Doe" or "9431" is taken.
    """
    expects = turn_expectations(turns)
    hits = [find_pii(text, e, entities=True) for (_, text), e in zip(turns, expects, strict=True)]
    return _codes_after_numbers(turns, hits)


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
