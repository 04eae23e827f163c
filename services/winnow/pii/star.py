"""STAR's bank dialogues as planted-PII conversations (see ``winnow.pii.realtext``).

STAR's scenario instructions give the customer an identity ("You are Katarina Miller. Your PIN
is 9431 ..."), and those values are planted. The instructions also tell customers to "be
creative about PINs and names", so they type personal data the scenario never gave them. Two
label sets derived from the dialogue itself, not from the detector, cover that, each behind a
switch so the scenario-only figures stay reproducible:

* ``dob``: the dates a customer types after the agent asks for a date of birth (or after
  "date of birth" / "DOB" / "born" in the same turn) are planted as ``dob`` values;
* ``answers``: the customer's reply to the agent's security question (mother's maiden name,
  childhood pet) is *ignored*: it is the customer's security answer whatever they make up,
  so a hit there is no false positive, but as the words of the answer are not marked, no
  recall is claimed for it either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

_STAR_VALUES = [
    ("name", re.compile(r"\bYou are ([A-Z][a-z]+(?: [A-Z][a-z]+)+)\.")),
    ("id", re.compile(r"account number is (\d+)")),
    ("pin", re.compile(r"\bPIN is (\d+)")),
    ("pin", re.compile(r"either (\d+) or (\d+)")),
    ("security_answer", re.compile(r"security questions?: ([A-Z][\w' ]+?)\.?\)")),
]


# Dates of birth are not in the scenario: customers invent one when the agent asks for it.
_DOB_ASKED = re.compile(r"(?i)\b(?:date of birth|birth ?date|birthday|dob|born)\b")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"(?i)(?<![\w/.\-])(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,?(?: of)? \d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH},? \d{{4}}"
    r"|(?:1[89]|20)\d\d)(?![\w/\-]|\.\d)"
)


def _star_dobs(turns: list[dict[str, str]]) -> list[dict[str, object]]:
    """Dates the customer types in answer to the agent's date-of-birth question, or after
    saying "my date of birth is" / "DOB" / "born" in the same turn, as ``dob`` spans."""
    out: list[dict[str, object]] = []
    for i, turn in enumerate(turns):
        before = turns[i - 1] if i else {"role": "", "text": ""}
        asked = before["role"] == "agent" and _DOB_ASKED.search(before["text"])
        said = _DOB_ASKED.search(turn["text"])
        if turn["role"] == "customer" and (asked or said):
            start = said.start() if said and not asked else 0
            out += [
                {"turn": i, "start": m.start(), "end": m.end(), "type": "dob"}
                for m in _DATE.finditer(turn["text"], start)
            ]
    return out


# The agent's security questions in STAR's bank flow ("What was your mother's maiden name?",
# "And what was the name of the pet you had as a child?").
_SECURITY_ASKED = re.compile(r"(?i)\b(?:maiden name|pet|security question)")


def _star_security_replies(turns: list[dict[str, str]]) -> list[dict[str, object]]:
    """The customer's whole turn right after the agent's security question, as ignored spans."""
    return [
        {"turn": i, "start": 0, "end": len(turn["text"])}
        for i, turn in enumerate(turns)
        if i
        and turn["role"] == "customer"
        and turns[i - 1]["role"] == "agent"
        and _SECURITY_ASKED.search(turns[i - 1]["text"])
    ]


def convert_star(
    path: Path, *, dob: bool = True, answers: bool = True
) -> Iterator[dict[str, object]]:
    """STAR dialogues whose scenario gives the customer an identity, with those values planted.

    The full name, each part of it on its own, the account number, the PIN(s) and the
    security answer are planted as values: every occurrence in any turn counts. ``dob`` and
    ``answers`` add the labels derived from the dialogue (see the module docstring); both off
    reproduce the labels before 2026-12-06 byte for byte.
    """
    with path.open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            guide = " ".join(g["text"] for g in d.get("user_guide", []))
            planted: list[dict[str, object]] = []
            for kind, pattern in _STAR_VALUES:
                for m in pattern.finditer(guide):
                    for value in m.groups():
                        planted.append({"type": kind, "value": value})
                        if kind == "name":
                            planted += [{"type": kind, "value": part} for part in value.split()]
            if not planted:
                continue
            turns = [{"role": t["speaker"], "text": t["text"]} for t in d["turns"]]
            record: dict[str, object] = {
                "id": str(d["dialogue_id"]),
                "source": "star/" + "+".join(d["tasks"]),
                "turns": turns,
                "planted": planted + (_star_dobs(turns) if dob else []),
            }
            if answers:
                record["ignored"] = _star_security_replies(turns)
            yield record
