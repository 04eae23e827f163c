"""What the previous turn asked for: an agent's "Could I get your full name?" makes the
customer's bare "Jane Doe" or "9431" a value (``winnow.pii.entities`` reads it)."""

from __future__ import annotations

import re
from enum import Flag, auto


class Expect(Flag):
    """What the previous turn asked for, so the answer's value can be taken on less evidence."""

    NOTHING = 0
    NAME = auto()
    NUMBER = auto()
    CREDENTIAL = auto()
    ADDRESS = auto()
    USERNAME = auto()
    ASKED_BEFORE = auto()
    """A number or PIN was asked for earlier in the conversation: numbers stay sensitive."""
    BIRTH = auto()
    """A date of birth was asked for: a date in the answer is one ("May 8, 1927")."""


AGENT_ROLES = frozenset(["assistant", "agent", "system", "wizard", "bot", "human_agent"])


def turn_expectations(turns: list[tuple[str, str]]) -> list[Expect]:
    """What each turn of a conversation (``(role, text)``) is searched with: the question of
    the other side's previous turn, plus ``ASKED_BEFORE`` once any turn asked for a number or
    a PIN (customers give them turns later: "oh, I remember my PIN, it's 9431")."""
    out: list[Expect] = []
    question, asked, prev_role = Expect.NOTHING, Expect.NOTHING, None
    for n, (role, text) in enumerate(turns):
        # The agent's side answers the customer's questions with instructions, never with the
        # customer's values: "How do I reset my password?" makes no answer a password.
        answering = role.lower() not in AGENT_ROLES
        current = question if role != prev_role and answering else Expect.NOTHING
        if asked & (Expect.NUMBER | Expect.CREDENTIAL):
            current |= Expect.ASKED_BEFORE
        out.append(current)
        if n == len(turns) - 1:
            break  # nothing after the last turn reads its question
        question = expectation(text)
        asked |= question
        prev_role = role
    return out


_ASKS = {
    # "Who should the money go to?", "Transfer money to whom?": a payee is a person ("Who
    # would you like to speak to?" is answered with a department as often as with a name).
    "name": (
        Expect.NAME,
        r"\b(?:(?:full |first |last |your |the )name|who am i speaking|recipient|payee|to whom\b|"
        r"who(?:m)?\b[^?.]{0,40}\b(?:send|transfer|pay|money|funds)|"
        r"(?:send|transfer|pay|money|funds)\b[^?.]{0,40}\bto whom?\b)",
    ),
    "number": (
        Expect.NUMBER,
        r"\b(?:account|acct|number|ssn|social security|card|zip|postal|policy|claim|"
        r"member|customer id|confirmation|booking|reference|order|digits)",
    ),
    "birth": (Expect.NUMBER | Expect.BIRTH, r"\b(?:date of birth|birth ?date|birthday|dob)\b"),
    "credential": (
        Expect.CREDENTIAL,
        r"\b(?:pin|password|passcode|security (?:question|answer)|maiden|pet)\b",
    ),
    "address": (Expect.ADDRESS, r"\b(?:address|where do you live|street)\b"),
    "username": (Expect.USERNAME, r"\b(?:user ?name|user id|login|handle)\b"),
}
# One scan of the lower-cased turn finds every kind of question (five scans cost ~10% of
# redaction time on long agent answers).
_ASK = re.compile("|".join(f"(?P<{k}>{pattern})" for k, (_, pattern) in _ASKS.items()))
# A demand without a question mark: "I cannot authenticate you without your date of birth",
# "It's a security question. Without it I cannot access your account."
_REQUEST = re.compile(r"\b(?:please|provide|need|tell|without (?:your|it|this|that|the))\b")


def expectation(question: str) -> Expect:
    """What a turn asks the other side for (an agent's "Could I get your full name?")."""
    low = question.lower()
    if "?" not in low and not _REQUEST.search(low):
        return Expect.NOTHING
    found = Expect.NOTHING
    for m in _ASK.finditer(low):
        found |= _ASKS[m.lastgroup or ""][0]
    return found
