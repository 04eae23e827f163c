"""``winnow bench tickets``: scoring cost of multi-turn tickets against single exchanges.

Not a test: it prints numbers for ``docs/benchmarks.md``. The demo generator makes the same
tickets in two shapes (``multi_turn_fraction`` 1.0 and 0.0, same seed); each set goes through
normalisation, heuristics and ``QualityScorer.score_batch`` in batches, as the scorer agent runs
them. Reported: events per second, turns judged per event, texts embedded per event.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from winnow.demo.generator import EventGenerator
from winnow.events import SOURCE_EVENT_ADAPTER
from winnow.example import Example
from winnow.scoring import QualityScorer
from winnow.stages.decode import Coordinates
from winnow.stages.heuristics import score_heuristics
from winnow.stages.normalise import event_to_examples


@dataclass(frozen=True, slots=True)
class TicketRate:
    """One shape's measurement."""

    shape: str
    events: int
    seconds: float
    turns_judged: int
    turns: int

    @property
    def per_second(self) -> float:
        """Events scored per second."""
        return self.events / self.seconds if self.seconds else 0.0


def ticket_examples(events: int, multi_turn_fraction: float, seed: int = 3) -> list[Example]:
    """Normalised, heuristics-scored examples of ``events`` generated tickets."""
    gen = EventGenerator(
        seed=seed, pii_fraction=0.0, duplicate_fraction=0.0, multi_turn_fraction=multi_turn_fraction
    )
    out: list[Example] = []
    while len(out) < events:
        doc = gen.event()
        if doc["type"] != "winnow.support_ticket.v1":
            continue
        event = SOURCE_EVENT_ADAPTER.validate_python(json.loads(json.dumps(doc)))
        out.extend(score_heuristics(e) for e in event_to_examples(event, Coordinates()))
    return out[:events]


def measure(scorer: QualityScorer, shape: str, examples: list[Example], batch: int) -> TicketRate:
    """Score ``examples`` in batches of ``batch`` (after one warm-up batch)."""
    scorer.score_batch(examples[:batch])
    started = time.perf_counter()
    scored: list[Example] = []
    for i in range(0, len(examples), batch):
        scored.extend(scorer.score_batch(examples[i : i + batch]))
    seconds = time.perf_counter() - started
    return TicketRate(
        shape,
        len(examples),
        seconds,
        sum(len(e.turn_scores) or 1 for e in scored),
        sum(len(e.messages) for e in scored),
    )
