"""Offline scoring of source events (``winnow score``): backfills and evaluation.

The same path as the stream, without Kafka: decode -> normalise -> ``QualityScorer`` in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from winnow.events import DeadLetter
from winnow.example import Example
from winnow.scoring import QualityScorer
from winnow.stages.decode import Coordinates
from winnow.stages.validate import ValidateConfig


@dataclass
class OfflineStats:
    """What an offline run read, wrote and refused."""

    events: int = 0
    examples: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)


def examples_from_lines(
    lines: Iterable[bytes],
    source: str,
    validate: ValidateConfig,
    stats: OfflineStats,
) -> Iterator[Example]:
    """Decode, normalise and redact JSONL events with the validator's own settings
    (``winnow.agents.config.validate_config``: subject key, order-number policy, placeholder
    style): what ``winnow score`` writes holds no personal data and reads like the stream's
    candidates. Invalid lines are counted by reason."""
    for number, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        stats.events += 1
        # The file and line number stand in for Kafka coordinates in dead letters and examples.
        result = validate(line, Coordinates(topic=source, offset=number))
        if isinstance(result, DeadLetter):
            key = str(result.reason)
            stats.dead_letters[key] = stats.dead_letters.get(key, 0) + 1
            continue
        yield from result


def score_stream(
    examples: Iterable[Example],
    scorer: QualityScorer,
    out: IO[str],
    batch: int,
    stats: OfflineStats,
) -> None:
    """Score in batches of ``batch`` and write one JSON example per line."""
    pending: list[Example] = []

    def flush() -> None:
        for scored in scorer.score_batch(pending):
            out.write(scored.model_dump_json() + "\n")
        stats.examples += len(pending)
        pending.clear()

    for example in examples:
        pending.append(example)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()


def count_lines(path: Path) -> int:
    """Lines in a file, for the progress bar's total."""
    with path.open("rb") as f:
        return sum(1 for _ in f)
