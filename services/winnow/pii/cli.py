"""``winnow pii measure|convert|bench``: redaction recall/precision on the planted corpus or on
real conversations, the converters from the shared corpora, and redaction speed."""

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
from winnow.pii.example import redact_example
from winnow.pii.lexicon import warm
from winnow.pii.types import PiiType

pii_app = typer.Typer(help="PII redaction tools.", no_args_is_help=True)


@pii_app.command("measure")
def measure_command(
    n: Annotated[int, typer.Option("--n", help="Number of generated texts.")] = 20000,
    seed: Annotated[int, typer.Option("--seed", help="Corpus seed.")] = 0,
    conversations: Annotated[
        Path | None,
        typer.Option(
            "--conversations",
            help="JSONL of real conversations with planted values (see winnow pii convert); "
            "measures the full redactor, names and ids included, instead of generated text.",
        ),
    ] = None,
    show: Annotated[int, typer.Option(help="False positives and misses to list.")] = 25,
    part: Annotated[
        str,
        typer.Option(
            "--part",
            help="all, tune or validation: a fixed split by a hash of the conversation id "
            "(tune rules on one part, report the other).",
        ),
    ] = "all",
) -> None:
    """Print per-type recall and precision of redaction on planted-PII text."""
    if conversations is not None:
        from winnow.pii.realtext import evaluate_conversations, load_conversations

        if not conversations.is_file():
            raise typer.BadParameter(
                f"{conversations} does not exist: write one with `winnow pii convert`"
            )
        if part not in ("all", "tune", "validation"):
            raise typer.BadParameter(f"unknown part {part!r}: use all, tune or validation")
        try:
            convs = load_conversations(conversations, part)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        typer.echo(evaluate_conversations(convs).table(show))
        return
    typer.echo(measure_redaction(n, seed).table())


@pii_app.command("convert")
def convert_command(
    corpus: Annotated[str, typer.Argument(help="multidogo, star or sgd")],
    data: Annotated[
        Path,
        typer.Option("--data", help="The corpus folder (or STAR's .jsonl, an SGD .json file)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Conversations JSONL to write.")],
    dob: Annotated[
        bool,
        typer.Option(
            "--dob/--no-dob",
            help="STAR: plant the dates of birth customers type when asked.",
        ),
    ] = True,
    answers: Annotated[
        bool,
        typer.Option(
            "--answers/--no-answers",
            help="STAR: score neither way the customer's reply to a security question "
            "(--no-dob --no-answers: the labels before 2026-12-06, scenario values only).",
        ),
    ] = True,
) -> None:
    """Turn a shared labelled corpus into the conversations format of ``measure``."""
    import json

    from winnow.pii.realtext import convert_multidogo
    from winnow.pii.sgd import convert_sgd
    from winnow.pii.star import convert_star

    if corpus == "multidogo":
        records = convert_multidogo(data)
    elif corpus == "star":
        path = data / "star_dialogues.shared.jsonl" if data.is_dir() else data
        if not path.is_file():
            raise typer.BadParameter(f"{path} does not exist: pass --data with STAR's jsonl")
        records = convert_star(path, dob=dob, answers=answers)
    elif corpus == "sgd":
        records = convert_sgd(data)
    else:
        raise typer.BadParameter(f"unknown corpus {corpus!r}: use multidogo, star or sgd")
    count = 0
    with out.open("w", encoding="utf-8") as f:
        try:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            out.unlink(missing_ok=True)  # no half-written file left behind
            raise typer.BadParameter(
                f"{data} does not hold {corpus} data ({problem}): pass the corpus folder "
                "from ../shared/data"
            ) from None
    if count == 0:
        out.unlink(missing_ok=True)
        raise typer.BadParameter(f"no conversations found under {data}")
    typer.echo(f"{count} conversations -> {out}")


@pii_app.command("bench")
def bench_command(
    csv_path: Annotated[Path, typer.Argument(help="CSV with instruction and response columns.")],
    repeat: Annotated[int, typer.Option(help="Passes over the file; the best is reported.")] = 3,
    entities: Annotated[
        bool,
        typer.Option(
            "--entities/--patterns-only",
            help="Names, addresses, ids and credentials too (as the validator), or the "
            "pattern detectors alone (e-mails, phones, cards...).",
        ),
    ] = True,
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
    warm()  # the word lists load once, outside the timed passes
    best, best_cpu, hits = float("inf"), float("inf"), Counter[PiiType]()
    for _ in range(repeat):
        hits.clear()
        started, cpu = time.perf_counter(), time.process_time()
        for example in examples:
            hits.update(redact_example(example, entities=entities)[1])
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    found = {t.value: c for t, c in hits.items()}
    # CPU seconds as well as wall seconds: on a shared machine the wall figure measures the
    # neighbours' load, the CPU figure what one core of the redactor does.
    typer.echo(
        f"{len(examples)} examples, {chars:,} chars: {len(examples) / best:,.0f} examples/s "
        f"wall, {len(examples) / best_cpu:,.0f} examples per CPU-second, "
        f"{chars / best_cpu:,.0f} chars per CPU-second (one core); hits: {found or 'none'}"
    )
