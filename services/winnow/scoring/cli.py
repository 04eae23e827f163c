"""``winnow score``: offline scoring of source events with the run-time scorer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from winnow.settings import get_settings


def _setup() -> None:
    from winnow.log import configure_logging

    configure_logging(get_settings())


def score(
    input: Annotated[Path, typer.Option("--input", help="JSONL of source events.")],
    output: Annotated[Path, typer.Option("--output", help="JSONL of scored examples.")],
    batch: Annotated[
        int | None, typer.Option(help="Examples per batch (default WINNOW_BATCH_MAX).")
    ] = None,
) -> None:
    """Score source events offline: one scored candidate example per line."""
    _setup()
    from tqdm import tqdm

    from winnow.agents.config import validate_config
    from winnow.scoring import QualityScorer
    from winnow.scoring.offline import (
        OfflineStats,
        count_lines,
        examples_from_lines,
        score_stream,
    )

    settings = get_settings()
    scorer = QualityScorer.from_settings(settings)
    stats = OfflineStats()
    output.parent.mkdir(parents=True, exist_ok=True)
    with input.open("rb") as src, output.open("w", encoding="utf-8") as out:
        lines = tqdm(src, total=count_lines(input), unit="event", file=sys.stderr)
        # The validator's own construction: WINNOW_PII_* settings apply here as in the stream.
        examples = examples_from_lines(lines, input.name, validate_config(settings), stats)
        score_stream(examples, scorer, out, batch or settings.batch_max, stats)
    typer.echo(
        f"{stats.events} events -> {stats.examples} scored examples in {output}"
        + (f"; dead letters: {stats.dead_letters}" if stats.dead_letters else ""),
        err=True,
    )
