"""Redaction of a whole conversation: each turn with what the turns before it asked for."""

from __future__ import annotations

from winnow.pii.entities import turn_expectations
from winnow.pii.redact import find_pii
from winnow.pii.types import PiiSpan


def find_pii_in_turns(turns: list[tuple[str, str]]) -> list[list[PiiSpan]]:
    """PII hits of every turn of one conversation, ``(role, text)`` in order.

    A turn answering the other side's question ("Could I get your full name, please?") is
    searched with that question's expectation, so a bare "Jane Doe" or "9431" is taken.
    """
    expects = turn_expectations(turns)
    return [find_pii(text, e, entities=True) for (_, text), e in zip(turns, expects, strict=True)]
