"""Redaction of a whole conversation: each turn with what the turns before it asked for."""

from __future__ import annotations

import re

from winnow.pii.entities import Expect, turn_expectations
from winnow.pii.redact import find_pii
from winnow.pii.types import PiiSpan

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
    return [find_pii(text, e, entities=True) for (_, text), e in zip(turns, expects, strict=True)]
