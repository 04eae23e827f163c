"""Evaluate ticket understanding and routing on STAR / MultiDoGO conversations.

``ticket_events`` turns dataset conversations into ``winnow.support_ticket.v1`` events (what a
producer would send); ``winnow score`` scores them through the production path; ``routing_report``
compares the scored domains with the mapped categories. ``small_talk_report`` measures the turn
classifier against MultiDoGO's greeting/closing/thanks intents and a hand-labelled STAR sample.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from winnow.events import Role
from winnow.scoring.build import conversations as cv
from winnow.scoring.heads import OTHER
from winnow.stages.ticket import TurnKind, classify_turn, is_small_talk

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def ticket_event(dialogue: cv.Dialogue, *, tenant: str = "eval") -> dict[str, Any]:
    """A support-ticket event carrying ``dialogue``'s turns (no category: the router finds it)."""
    return {
        "specversion": "1.0",
        "id": f"{dialogue.source}:{dialogue.dialogue_id}",
        "source": f"urn:winnow:eval:{dialogue.source}",
        "type": "winnow.support_ticket.v1",
        "time": _EPOCH.isoformat(),
        "tenant": tenant,
        "data": {
            "ticket_id": dialogue.dialogue_id,
            "channel": "chat",
            "created_at": _EPOCH.isoformat(),
            "resolved_at": (_EPOCH + timedelta(minutes=10)).isoformat(),
            "turns": [
                {"speaker": "customer" if t.speaker == "customer" else "agent", "text": t.text}
                for t in dialogue.turns
                if t.text.strip()
            ],
            "status": "resolved",
            "language": "en",
        },
    }


def labelled_dialogues(root: Path, split: cv.Split) -> Iterator[cv.Dialogue]:
    """Single-category STAR and MultiDoGO conversations of one split."""
    for source in (cv.star(root), cv.multidogo(root)):
        for d in source:
            if d.category is not None and cv.split_of(d.dialogue_id) == split:
                yield d


@dataclass(frozen=True, slots=True)
class RoutingResult:
    """Accuracy of scored domains against mapped categories."""

    tickets: int
    accuracy: float
    support_tickets: int
    support_to_other: float
    by_source: dict[str, tuple[int, float]]
    confusion: dict[str, dict[str, int]]


def routing_report(truth: dict[str, str], scored: Iterable[dict[str, Any]]) -> RoutingResult:
    """Compare each scored example's ``domain`` with ``truth[event id]``."""
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    support = support_other = 0
    confusion: dict[str, Counter[str]] = {}
    for doc in scored:
        event_id = doc["source"]["event_id"]
        if event_id not in truth:
            continue
        want, got = truth[event_id], doc.get("domain") or OTHER
        src = event_id.split(":", 1)[0].split("/", 1)[0]
        totals[src] += 1
        hits[src] += want == got
        confusion.setdefault(want, Counter())[got] += 1
        if want != OTHER:
            support += 1
            support_other += got == OTHER
    n = sum(totals.values())
    return RoutingResult(
        tickets=n,
        accuracy=sum(hits.values()) / n if n else 0.0,
        support_tickets=support,
        support_to_other=support_other / support if support else 0.0,
        by_source={s: (totals[s], hits[s] / totals[s]) for s in sorted(totals)},
        confusion={k: dict(v) for k, v in sorted(confusion.items())},
    )


@dataclass(frozen=True, slots=True)
class Detection:
    """Precision and recall of a binary detector."""

    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int

    @property
    def precision(self) -> float:
        """Share of detections that are right."""
        return self.true_pos / max(self.true_pos + self.false_pos, 1)

    @property
    def recall(self) -> float:
        """Share of true cases detected."""
        return self.true_pos / max(self.true_pos + self.false_neg, 1)


def _detection(pairs: Iterable[tuple[bool, bool]]) -> Detection:
    counts = Counter(pairs)
    return Detection(
        counts[(True, True)], counts[(False, True)], counts[(True, False)], counts[(False, False)]
    )


def multidogo_small_talk(root: Path, split: cv.Split | None = None) -> Detection:
    """Small-talk detection on MultiDoGO customer turns against its intents."""
    return _detection(
        (cv.is_gold_small_talk(t), is_small_talk(t.text, Role.USER))
        for d in cv.multidogo(root)
        if split is None or cv.split_of(d.dialogue_id) == split
        for t in d.turns
        if t.speaker == "customer"
    )


def labelled_agent_turns(path: Path) -> list[tuple[str, str]]:
    """The hand-labelled agent turns: (text, label) pairs."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [(r["text"], r["label"]) for r in rows]


def hand_checked_small_talk(path: Path) -> tuple[Detection, Detection]:
    """Small-talk and identity-check detection on the hand-labelled agent turns."""
    rows = labelled_agent_turns(path)
    kinds = [classify_turn(text, Role.ASSISTANT) for text, _ in rows]
    small = _detection(
        (label in ("greeting", "closing"), kind in (TurnKind.GREETING, TurnKind.CLOSING))
        for (_, label), kind in zip(rows, kinds, strict=True)
    )
    identity = _detection(
        (label == "identity", kind is TurnKind.IDENTITY)
        for (_, label), kind in zip(rows, kinds, strict=True)
    )
    return small, identity
