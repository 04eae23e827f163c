"""``winnow pii measure|bench``: redaction recall/precision on the planted corpus, and its speed."""

from __future__ import annotations

import csv
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, SourceRef, example_id
from winnow.pii.corpus import measure_redaction
from winnow.pii.redact import PiiType, redact_example

pii_app = typer.Typer(help="PII redaction tools.", no_args_is_help=True)


@pii_app.command("measure")
def measure_command(
    n: Annotated[int, typer.Option("--n", help="Number of generated texts.")] = 20000,
    seed: Annotated[int, typer.Option("--seed", help="Corpus seed.")] = 0,
) -> None:
    """Print per-type recall and precision of redaction on a planted-PII corpus."""
    typer.echo(measure_redaction(n, seed).table())


@pii_app.command("bench")
def bench_command(
    csv_path: Annotated[Path, typer.Argument(help="CSV with instruction and response columns.")],
    repeat: Annotated[int, typer.Option(help="Passes over the file; the best is reported.")] = 3,
) -> None:
    """Time ``redact_example`` on real support answers (e.g. the shared Bitext CSV)."""
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = [(r["instruction"], r["response"]) for r in csv.DictReader(f)]
    examples = []
    for question, answer in rows:
        messages = [
            ChatMessage(role=Role.USER, content=question),
            ChatMessage(role=Role.ASSISTANT, content=answer),
        ]
        examples.append(
            Example(
                id=example_id(tenant="bench", kind=ExampleKind.SFT, messages=messages),
                kind=ExampleKind.SFT,
                tenant="bench",
                messages=messages,
                provenance="human_agent",
                source=SourceRef(event_id="bench", event_type="bench"),
                event_time=datetime.now(UTC),
            )
        )
    chars = sum(len(q) + len(a) for q, a in rows)
    best, hits = float("inf"), Counter[PiiType]()
    for _ in range(repeat):
        hits.clear()
        started = time.perf_counter()
        for example in examples:
            hits.update(redact_example(example)[1])
        best = min(best, time.perf_counter() - started)
    found = {t.value: c for t, c in hits.items()}
    typer.echo(
        f"{len(examples)} examples, {chars:,} chars: {len(examples) / best:,.0f} examples/s, "
        f"{chars / best:,.0f} chars/s (one core); hits: {found or 'none'}"
    )
