"""Feeding events in: ``winnow generate`` writes source events, ``winnow ingest`` produces them."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from winnow.cli.helpdesk import Helpdesk
from winnow.settings import Settings, get_settings

if TYPE_CHECKING:
    from winnow.demo.generator import EventGenerator


class SourceName(StrEnum):
    """Which source topic ``winnow ingest`` writes to; ``auto`` reads each record's type."""

    auto = "auto"
    tickets = "tickets"
    feedback = "feedback"
    synthetic = "synthetic"


def generate(
    events: Annotated[int, typer.Option(min=1, help="Records to generate.")] = 1000,
    out: Annotated[
        Path, typer.Option(help="JSONL file to write (one raw record per line).")
    ] = Path("events.jsonl"),
    bad_fraction: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    duplicate_fraction: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.05,
    pii_fraction: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.1,
    seed: int = 7,
    to_kafka: Annotated[
        bool,
        typer.Option(
            "--produce", help="Produce to the source topics (of `winnow up`) instead of a file."
        ),
    ] = False,
) -> None:
    """Write generated source events to a JSONL file (feed it to `winnow ingest`), or produce."""
    from tqdm import tqdm

    from winnow.demo.generator import EventGenerator

    gen = EventGenerator(
        seed=seed,
        bad_fraction=bad_fraction,
        duplicate_fraction=duplicate_fraction,
        pii_fraction=pii_fraction,
    )
    if to_kafka:
        _produce_generated(gen, events)
        return
    with out.open("wb") as fh:
        for record in tqdm(gen.records(events), total=events, desc="generate", unit="ev"):
            fh.write(record.value.replace(b"\n", b" ") + b"\n")
    typer.echo(f"wrote {events} records to {out}")


def ingest(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="JSONL, one event per line; with --from, the helpdesk's export document.",
        ),
    ],
    source: Annotated[
        SourceName, typer.Option("--type", help="Source topic to write to.")
    ] = SourceName.auto,
    helpdesk: Annotated[
        Helpdesk | None,
        typer.Option(
            "--from", help="Read FILE as this helpdesk's export and convert it to tickets."
        ),
    ] = None,
    tenant: Annotated[str, typer.Option(help="Tenant of converted helpdesk tickets.")] = "default",
    category_field: Annotated[
        str | None,
        typer.Option(
            help="The custom field whose value is the ticket's category: a Zendesk custom "
            "field id, an Intercom custom attribute or a Freshdesk custom field name "
            "(cf_...). Without it, the first tag."
        ),
    ] = None,
) -> None:
    """Backfill: produce every line of a JSONL file to its source topic, with a progress bar.

    Lines are sent as they are, so malformed lines reach the validator and its DLQ. With
    ``--from zendesk|intercom|freshdesk`` the file is a helpdesk export: each ticket or
    conversation is converted to a ``winnow.support_ticket.v1`` event, and one that cannot be is
    dead-lettered with the reason.
    """
    from tqdm import tqdm

    from winnow.cli.errors import exit_on_error
    from winnow.kafka.discovery import client_settings, one_line_errors
    from winnow.kafka.produce import produce
    from winnow.topics import SOURCE_FOR_TYPE, TopicLayout

    settings = client_settings(get_settings())
    layout = TopicLayout.from_settings(settings)
    if helpdesk is not None:
        _ingest_helpdesk(file, helpdesk, settings, tenant, category_field)
        return

    def topic_for(line: bytes) -> str:
        if source is not SourceName.auto:
            return layout.source(source.value)
        try:
            kind = json.loads(line).get("type")
        except (ValueError, AttributeError):
            kind = None
        return layout.source(SOURCE_FOR_TYPE.get(kind, settings.source_topics[0]))

    total = sum(1 for line in file.open("rb") if line.strip())
    # The bar closes before an error line is printed, so the line starts a line of its own.
    with (
        exit_on_error(),
        one_line_errors(settings),
        file.open("rb") as fh,
        tqdm(total=total, desc="ingest", unit="ev") as bar,
    ):
        records = ((topic_for(ln), None, ln.rstrip(b"\r\n")) for ln in fh if ln.strip())
        sent = asyncio.run(produce(settings, records, on_sent=bar.update))
    typer.echo(f"produced {sent} records to {settings.kafka_bootstrap}")


def _ingest_helpdesk(
    file: Path, helpdesk: Helpdesk, settings: Settings, tenant: str, category_field: str | None
) -> None:
    from winnow.cli.errors import exit_on_error
    from winnow.cli.helpdesk import helpdesk_records
    from winnow.kafka.discovery import one_line_errors
    from winnow.kafka.produce import produce
    from winnow.topics import TopicLayout

    layout = TopicLayout.from_settings(settings)
    with exit_on_error():
        batch = helpdesk_records(
            file, helpdesk, layout, tenant=tenant, category_field=category_field
        )
        with one_line_errors(settings):
            asyncio.run(produce(settings, batch.records))
    typer.echo(
        f"produced {batch.converted} tickets from {helpdesk.value} to {settings.kafka_bootstrap}; "
        f"{sum(batch.rejected.values())} dead-lettered"
        + (f": {dict(batch.rejected.most_common(5))}" if batch.rejected else "")
    )


def _produce_generated(gen: EventGenerator, events: int) -> None:
    from winnow.cli.errors import exit_on_error
    from winnow.kafka.discovery import client_settings, one_line_errors
    from winnow.kafka.produce import produce
    from winnow.topics import TopicLayout

    settings = client_settings(get_settings())
    layout = TopicLayout.from_settings(settings)
    records = ((layout.source(r.source), r.key, r.value) for r in gen.records(events))
    with exit_on_error(), one_line_errors(settings):
        sent = asyncio.run(produce(settings, records))
    typer.echo(f"produced {sent} generated records to {settings.kafka_bootstrap}")
