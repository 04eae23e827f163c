"""Real-text PII measurement: conversations with their planted values, and how many survive.

A conversations file is JSON Lines, one conversation a line::

    {"id": "...", "source": "multidogo", "turns": [{"role": "customer", "text": "..."}, ...],
     "planted": [{"turn": 0, "start": 11, "end": 21, "type": "name"},   # a span, or
                 {"type": "pin", "value": "9431"}],                       # every occurrence
     "ignored": [{"turn": 2, "start": 0, "end": 7}]}

``planted`` lists personal values, as character spans of one turn or as values matched
(case-insensitively, on word boundaries) in every turn; ``ignored`` spans are neither counted
nor held against precision (MultiDoGO's e-mails written without punctuation, city names).

Scoring, span by span (as ``winnow pii measure`` on generated text):

* a planted value is *recalled* when none of its characters survives redaction; whitespace
  and punctuation *between* two hits inside the value reveal nothing and do not count as
  survivors (``<ADDRESS> <PHONE>`` for a label spanning an address and a phone number), while a
  letter or digit left anywhere, or a separator at the value's edge, still does (since
  2026-12-06, ``_survives``: figures measured before are not comparable);
* a hit is a *false positive* when it removes no character of a planted or ignored value.

``load_conversations(path, part)`` keeps a fixed ~30% of conversations (by a hash of the id)
as ``validation`` and the rest as ``tune``: rules are tuned on one part and reported on the
other.

``convert_multidogo``, ``winnow.pii.star.convert_star`` and ``winnow.pii.sgd.convert_sgd`` turn
the three shared corpora into this format: MultiDoGO's slot labels give spans; STAR's scenario
instructions ("You are Katarina Miller. Your PIN is 9431 ...") give the values its customers
were told to type; SGD's payee slots give the names of the people money is sent to.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from winnow.pii.conversation import find_pii_in_turns
from winnow.pii.lexicon import warm
from winnow.pii.types import PiiSpan

# MultiDoGO slot -> measured type; slots not listed are ordinary words (food, cost, dates...).
MULTIDOGO_SLOTS: dict[str, str] = {
    "name": "name",
    "address": "address",
    "current_zipcode": "address",
    "new_zipcode": "address",
    "booking_confirmation_number": "id",
    "account_number": "id",
    "account_id": "id",
    "target_account_number": "id",
    "policyid": "id",
    "claimid": "id",
    "order_number": "id",
    "username": "username",
    "password": "password",
    "ssn": "ssn",
    "card_number": "card",
    "phonenumber": "phone",
    "phone_number": "phone",
}
# Counted neither way: e-mails without punctuation (the issue excludes them) and cities, which
# are quasi-identifiers that redaction may take or leave.
MULTIDOGO_IGNORED = {"email_address", "current_city", "new_city"}


@dataclass(slots=True)
class Conversation:
    """One conversation with its planted and ignored spans resolved per turn."""

    id: str
    source: str
    turns: list[tuple[str, str]]
    planted: list[tuple[int, int, int, str]] = field(default_factory=list)
    ignored: list[tuple[int, int, int]] = field(default_factory=list)


def _occurrences(text: str, value: str) -> Iterator[tuple[int, int]]:
    pattern = re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)", re.IGNORECASE)
    yield from (m.span() for m in pattern.finditer(text))


def parse_conversation(record: dict[str, object]) -> Conversation:
    """Resolve one JSON record (see the module docstring) into spans per turn."""
    raw_turns = record["turns"]
    assert isinstance(raw_turns, list)
    turns = [(str(t["role"]), str(t["text"])) for t in raw_turns]
    conv = Conversation(str(record.get("id", "")), str(record.get("source", "")), turns)
    for p in record.get("planted", []) or []:  # type: ignore[attr-defined]
        if "value" in p:
            for i, (_, text) in enumerate(turns):
                for s, e in _occurrences(text, str(p["value"])):
                    conv.planted.append((i, s, e, str(p["type"])))
        else:
            conv.planted.append((int(p["turn"]), int(p["start"]), int(p["end"]), str(p["type"])))
    for p in record.get("ignored", []) or []:  # type: ignore[attr-defined]
        conv.ignored.append((int(p["turn"]), int(p["start"]), int(p["end"])))
    # A part of a planted value found inside the whole value (a first name inside the full name)
    # is one value, not two.
    spans = sorted(set(conv.planted), key=lambda p: (p[0], p[1], -p[2]))
    conv.planted = [
        p
        for p in spans
        if not any(q != p and q[0] == p[0] and q[1] <= p[1] and p[2] <= q[2] for q in spans)
    ]
    return conv


# Share of conversations held out for validation: tuning looks at the rest only.
VALIDATION_SHARE = 0.3


def conversation_part(conv_id: str) -> str:
    """``"validation"`` or ``"tune"``, fixed by a hash of the conversation id, so a rule tuned
    on one part can be checked on conversations it never saw (and the split never moves)."""
    digest = hashlib.sha256(b"winnow-pii-split:" + conv_id.encode()).digest()
    return "validation" if digest[0] < 256 * VALIDATION_SHARE else "tune"


def load_conversations(path: Path, part: str = "all") -> list[Conversation]:
    """Read a conversations JSONL file; ``part`` keeps ``tune`` or ``validation`` only.

    Raises ``ValueError`` naming the file and line of a record that is not JSON or lacks a
    field of the format (see the module docstring)."""
    convs = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                convs.append(parse_conversation(json.loads(line)))
            except (ValueError, KeyError, TypeError, IndexError, AssertionError) as exc:
                problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                raise ValueError(
                    f"{path}:{n}: not a conversation record ({problem}); "
                    "write the file with `winnow pii convert`"
                ) from exc
    if part == "all":
        return convs
    return [c for c in convs if conversation_part(c.id) == part]


@dataclass(slots=True)
class RealTextReport:
    """Per-type recall, per-detector precision, false positives seen and throughput."""

    planted: Counter[str] = field(default_factory=Counter)
    recalled: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)
    false_positives: Counter[str] = field(default_factory=Counter)
    fp_examples: Counter[tuple[str, str]] = field(default_factory=Counter)
    missed_examples: Counter[tuple[str, str]] = field(default_factory=Counter)
    conversations: int = 0
    turns: int = 0
    seconds: float = 0.0

    def table(self, show: int = 25) -> str:
        """Markdown tables: recall per planted type, precision per detector type."""
        rows = ["| planted type | planted | recalled | recall |", "|---|---:|---:|---:|"]
        for t in sorted(self.planted):
            n, r = self.planted[t], self.recalled[t]
            rows.append(f"| {t} | {n} | {r} | {r / n:.4f} |")
        n, r = sum(self.planted.values()), sum(self.recalled.values())
        rows.append(f"| all | {n} | {r} | {r / n if n else 1.0:.4f} |")
        rows += [
            "",
            "| detector type | hits | false positives | precision |",
            "|---|---:|---:|---:|",
        ]
        for t in sorted(self.hits):
            h, fp = self.hits[t], self.false_positives[t]
            rows.append(f"| {t} | {h} | {fp} | {1 - fp / h:.4f} |")
        h, fp = sum(self.hits.values()), sum(self.false_positives.values())
        rows.append(f"| all | {h} | {fp} | {1 - fp / h if h else 1.0:.4f} |")
        rate = self.turns / self.seconds if self.seconds else 0.0
        rows += ["", f"{self.conversations} conversations, {self.turns} turns, {rate:,.0f} turns/s"]
        if show and self.fp_examples:
            rows.append("false positives seen (type: text, count):")
            rows += [f"  {t}: {v!r} x{c}" for (t, v), c in self.fp_examples.most_common(show)]
        if show and self.missed_examples:
            rows.append("missed (type: value, count):")
            rows += [f"  {t}: {v!r} x{c}" for (t, v), c in self.missed_examples.most_common(show)]
        return "\n".join(rows)


def _mark(n: int, spans: Iterable[tuple[int, int]]) -> bytearray:
    marks = bytearray(n)
    for s, e in spans:
        marks[s:e] = b"\x01" * (e - s)
    return marks


def _survives(text: str, covered: bytearray, start: int, end: int) -> bool:
    """Whether any character of ``text[start:end]`` survives the hits marked in ``covered``.

    An uncovered run survives when it holds a letter or digit, or touches the value's edge; a
    run of only whitespace and punctuation between two hits does not.
    """
    i = start
    while i < end:
        if covered[i]:
            i += 1
            continue
        j = i
        while j < end and not covered[j]:
            j += 1
        if i == start or j == end or any(c.isalnum() for c in text[i:j]):
            return True
        i = j
    return False


def evaluate_conversations(conversations: list[Conversation]) -> RealTextReport:
    """Redact every conversation turn by turn (with its context) and score the hits."""
    report = RealTextReport()
    warm()  # word lists load once, outside the timed part
    for conv in conversations:
        t0 = time.perf_counter()
        hits_per_turn: list[list[PiiSpan]] = find_pii_in_turns(conv.turns)
        report.seconds += time.perf_counter() - t0
        report.conversations += 1
        report.turns += len(conv.turns)
        for i, (_, text) in enumerate(conv.turns):
            hits = hits_per_turn[i]
            covered = _mark(len(text), ((h.start, h.end) for h in hits))
            planted = [(s, e, t) for ti, s, e, t in conv.planted if ti == i]
            known = _mark(
                len(text),
                [(s, e) for s, e, _ in planted] + [(s, e) for ti, s, e in conv.ignored if ti == i],
            )
            for s, e, t in planted:
                report.planted[t] += 1
                if not _survives(text, covered, s, e):
                    report.recalled[t] += 1
                else:
                    report.missed_examples[(t, text[s:e])] += 1
            for h in hits:
                report.hits[h.type.value] += 1
                if not any(known[h.start : h.end]):
                    report.false_positives[h.type.value] += 1
                    report.fp_examples[(h.type.value, text[h.start : h.end])] += 1
    return report


def _multidogo_rows(data: Path) -> Iterator[dict[str, str]]:
    root = data / "data" / "paper_splits" / "splits_annotated_at_turn_level"
    if not root.is_dir():
        root = data
    for path in sorted(root.glob("*/*.tsv")):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                row["_domain"] = path.parent.name
                yield row


def convert_multidogo(data: Path) -> Iterator[dict[str, object]]:
    """MultiDoGO's customer turns, one conversation a record, slot labels turned into spans.

    Turns whose labels do not line up with their tokens (a few hundred) are kept without labels
    and marked ignored as a whole, so neither side of the score counts them.
    """
    by_conv: dict[str, list[dict[str, str]]] = {}
    for row in _multidogo_rows(data):
        by_conv.setdefault(row["conversationId"], []).append(row)
    for conv_id, rows in by_conv.items():
        rows.sort(key=lambda r: float(r["turnNumber"] or 0))
        turns: list[dict[str, str]] = []
        planted: list[dict[str, Any]] = []
        ignored: list[dict[str, Any]] = []
        for i, row in enumerate(rows):
            text = row["utterance"]
            turns.append({"role": "customer", "text": text})
            tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
            labels = row["slot-labels"].split()
            if len(labels) != len(tokens):
                ignored.append({"turn": i, "start": 0, "end": len(text)})
                continue
            for (s, e), label in zip(tokens, labels, strict=True):
                if label in MULTIDOGO_SLOTS:
                    kind = MULTIDOGO_SLOTS[label]
                    if (
                        planted
                        and planted[-1]["turn"] == i
                        and planted[-1]["type"] == kind
                        and (planted[-1]["label"] == label and planted[-1]["end"] == s - 1)
                    ):
                        planted[-1]["end"] = e  # one value over consecutive tokens
                    else:
                        planted.append(
                            {"turn": i, "start": s, "end": e, "type": kind, "label": label}
                        )
                elif label in MULTIDOGO_IGNORED:
                    ignored.append({"turn": i, "start": s, "end": e})
        for p in planted:
            del p["label"]
        ignored += _addressed_names(turns, planted)
        yield {
            "id": conv_id,
            "source": f"multidogo/{rows[0]['_domain']}",
            "turns": turns,
            "planted": planted,
            "ignored": ignored,
        }


_ADDRESSED = re.compile(
    r"\b(?:hi|hai|hello|hey|thanks|thank you(?: so much)?|thank u|thanku|bye|goodbye|ok|okay|"
    r"dear|sorry|good (?:morning|afternoon|evening)|sure|yes|no|mr|ms|mrs|miss)\s+([a-z]+)\b"
    # Vocatives: a name closing a request or thanks ("thank you for your help charlie"), or
    # opening one ("sam are you there"); a name after "is", "am", "name" is a self-introduction.
    r"|(?<!\bis )(?<!\bam )(?<!\bim )(?<!\bname )(?<!myself )(?<!\bthis )(?<=\w )([a-z]+)$"
    r"|^([a-z]+) (?:are|can|could|please|still|i want|i need|i will)\b"
)


def _addressed_names(
    turns: list[dict[str, str]], planted: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The agent's name ("hi spencer", "thank you casey"): personal data, but MultiDoGO's labels
    only mark the customer's own details. A listed first name the customer greets or thanks
    and that is never labelled in the conversation is the agent's; every unlabelled occurrence
    of it in that conversation is ignored rather than scored either way."""
    from winnow.pii.lexicon import is_first_name

    labelled = {turns[p["turn"]]["text"][p["start"] : p["end"]] for p in planted}
    labelled_words = {w for value in labelled for w in value.split()}
    agents = {
        name
        for turn in turns
        for m in _ADDRESSED.finditer(turn["text"])
        for name in m.groups()
        if name and is_first_name(name) and name not in labelled_words
    }
    out: list[dict[str, Any]] = []
    for i, turn in enumerate(turns):
        for name in agents:
            for s, e in _occurrences(turn["text"], name):
                if not any(p["turn"] == i and p["start"] <= s < p["end"] for p in planted):
                    out.append({"turn": i, "start": s, "end": e})
    return out
