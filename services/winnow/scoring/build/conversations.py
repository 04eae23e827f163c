"""Readers for the multi-turn support datasets (STAR, MultiDoGO) and their category maps.

Both are read in place from ``../shared/data``. Each dataset's ``category_map.json`` maps its task
labels to Winnow's categories; Winnow's default router spells two of them differently
(``cancellation_fee`` -> ``cancel``, ``shipping_address`` -> ``shipping``), see ``ROUTER_LABEL``.

Splits are by conversation id, three ways (``train`` / ``calibration`` / ``report``), so the router
is fitted, its ``other`` threshold chosen and its accuracy reported on disjoint conversations.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from winnow.scoring.build.exceptions import TrainingDataError

STAR = "star/star_dialogues.shared.jsonl"
STAR_MAP = "star/category_map.json"
MULTIDOGO = "multidogo/data/paper_splits/splits_annotated_at_turn_level"
MULTIDOGO_MAP = "multidogo/category_map.json"
MULTIDOGO_DOMAINS = ("airline", "fastfood", "finance", "insurance", "media", "software")
MULTIDOGO_SMALL_TALK = frozenset({"openinggreeting", "closinggreeting", "thankyou"})
ROUTER_LABEL = {"cancellation_fee": "cancel", "shipping_address": "shipping"}
"""Dataset category names -> the default router's label names."""

Split = Literal["train", "calibration", "report"]
Speaker = Literal["customer", "agent"]

# Neutral agent acknowledgements between MultiDoGO customer turns (its agent text is not in the
# files), and the closing a real agent would end with.
ACKNOWLEDGEMENTS = (
    "Thank you. Let me check that for you.",
    "Okay, I have noted that.",
    "Thanks, one moment please while I look into it.",
    "Got it, thank you for the details.",
    "Sure, I can help with that.",
)
CLOSING = "You're welcome! Is there anything else I can help you with? Have a great day."


@dataclass(frozen=True, slots=True)
class DialogueTurn:
    """One turn of a dataset conversation; ``intents`` only where the dataset labels them."""

    speaker: Speaker
    text: str
    intents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A conversation with its mapped Winnow category (None: no single category)."""

    source: str
    dialogue_id: str
    turns: tuple[DialogueTurn, ...]
    category: str | None
    task: str


def split_of(dialogue_id: str) -> Split:
    """Three-way split by conversation id: 70% train, 15% calibration, 15% report."""
    bucket = int(hashlib.sha256(f"conv:{dialogue_id}".encode()).hexdigest(), 16) % 100
    return "train" if bucket < 70 else "calibration" if bucket < 85 else "report"


def router_label(category: str) -> str:
    """A dataset category in the router's label names."""
    return ROUTER_LABEL.get(category, category)


def _need(path: Path) -> Path:
    if not path.exists():
        raise TrainingDataError(f"dataset not found: {path} (set --data-root)")
    return path


def star(root: Path) -> Iterator[Dialogue]:
    """STAR's shared dialogues; single-task ones carry their mapped category, multi-task None."""
    mapping = json.loads(_need(root / STAR_MAP).read_text(encoding="utf-8"))["map"]
    with _need(root / STAR).open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            tasks = d["tasks"]
            single = len(tasks) == 1 and not d["multi_task"]
            mapped = mapping.get(tasks[0]) if single else None
            turns = tuple(DialogueTurn(t["speaker"], t["text"]) for t in d["turns"])
            yield Dialogue(
                "star",
                str(d["dialogue_id"]),
                turns,
                router_label(mapped) if mapped else None,
                ",".join(tasks),
            )


def _multidogo_rows(root: Path, domain: str) -> dict[str, list[tuple[float, str, tuple[str, ...]]]]:
    convs: dict[str, list[tuple[float, str, tuple[str, ...]]]] = {}
    for split in ("train", "dev"):
        path = _need(root / MULTIDOGO / domain / f"{split}.tsv")
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                intents = tuple(i.strip() for i in (row["intent"] or "").split("<div>"))
                convs.setdefault(row["conversationId"], []).append(
                    (float(row["turnNumber"]), row["utterance"] or "", intents)
                )
    return convs


def multidogo(root: Path) -> Iterator[Dialogue]:
    """MultiDoGO's shared conversations, customer turns with short neutral agent turns between.

    The category is the mapped first task intent (None when the conversation has none).
    """
    mapping = json.loads(_need(root / MULTIDOGO_MAP).read_text(encoding="utf-8"))
    acts = set(mapping["dialogue_acts"])
    for domain in MULTIDOGO_DOMAINS:
        for conv_id, rows in sorted(_multidogo_rows(root, domain).items()):
            rows.sort(key=lambda r: r[0])
            task = next((i for _, _, ints in rows for i in ints if i not in acts), None)
            mapped = mapping["map"][domain].get(task) if task else None
            turns: list[DialogueTurn] = []
            for n, (_, text, intents) in enumerate(rows):
                turns.append(DialogueTurn("customer", text, intents))
                if n < len(rows) - 1:
                    ack = ACKNOWLEDGEMENTS[
                        int(hashlib.sha256(f"{conv_id}{n}".encode()).hexdigest(), 16)
                        % len(ACKNOWLEDGEMENTS)
                    ]
                    turns.append(DialogueTurn("agent", ack))
            turns.append(DialogueTurn("agent", CLOSING))
            yield Dialogue(
                f"multidogo/{domain}",
                conv_id,
                tuple(turns),
                router_label(mapped) if mapped else None,
                task or "",
            )


def is_gold_small_talk(turn: DialogueTurn) -> bool:
    """MultiDoGO's label: every intent of the turn is a greeting, closing or thanks."""
    return bool(turn.intents) and all(i in MULTIDOGO_SMALL_TALK for i in turn.intents)


def routing_texts(dialogues: list[Dialogue]) -> list[str]:
    """What the scorer's router reads for each dialogue sent as a ticket (the production path)."""
    from winnow.events import SupportTicketEvent
    from winnow.scoring.build.ticket_eval import ticket_event
    from winnow.scoring.scorer import routing_text
    from winnow.stages.decode import Coordinates
    from winnow.stages.normalise import event_to_examples

    out: list[str] = []
    for d in dialogues:
        event = SupportTicketEvent.model_validate(ticket_event(d))
        examples = event_to_examples(event, Coordinates(topic="train"))
        out.append(routing_text(examples[0]) if examples else "")
    return out


def routing_rows(root: Path, split: Split) -> list[tuple[str, str]]:
    """(routing text, mapped label) of the single-category conversations of ``split``."""
    dialogues = [
        d
        for source in (star(root), multidogo(root))
        for d in source
        if d.category is not None and split_of(d.dialogue_id) == split
    ]
    texts = routing_texts(dialogues)
    return [(t, d.category or "other") for t, d in zip(texts, dialogues, strict=True) if t.strip()]


def producer_rows(path: Path, category_map: dict[str, str]) -> list[tuple[str, str]]:
    """(routing text, label) of the ticket events in a JSONL file whose category maps.

    The producers' own categories, mapped by ``WINNOW_CATEGORY_MAP``, label their tickets; the text
    is what the scorer would route on (the issue statement). Other lines are skipped.
    """
    from winnow.events import SOURCE_EVENT_ADAPTER, SupportTicketEvent
    from winnow.scoring.scorer import routing_text
    from winnow.stages.decode import Coordinates
    from winnow.stages.normalise import NormaliseOptions, event_to_examples

    options = NormaliseOptions(category_map={k.casefold(): v for k, v in category_map.items()})
    rows: list[tuple[str, str]] = []
    with _need(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f):
            try:
                event = SOURCE_EVENT_ADAPTER.validate_json(line)
            except ValueError:
                continue
            if not isinstance(event, SupportTicketEvent):
                continue
            examples = event_to_examples(
                event, Coordinates(topic=path.name, offset=number), options
            )
            if examples and examples[0].domain is not None:
                text = routing_text(examples[0])
                if text.strip():
                    rows.append((text, examples[0].domain))
    return rows
