"""The spine's commands: serve, broker, up, demo, generate, ingest, db, topics, schemas,
settings."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from winnow.cli.main import app
from winnow.settings import get_settings

db_app = typer.Typer(help="The retraining store's schema.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics of the layout.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of events and records.", no_args_is_help=True)
settings_app = typer.Typer(help="WINNOW_* settings.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(topics_app, name="topics")
app.add_typer(schemas_app, name="schemas")
app.add_typer(settings_app, name="settings")


class Service(StrEnum):
    """Deployable services."""

    validator = "validator"
    scorer = "scorer"
    curator = "curator"
    monitor = "monitor"
    gateway = "gateway"


class SourceName(StrEnum):
    """Which source topic ``winnow ingest`` writes to; ``auto`` reads each record's type."""

    auto = "auto"
    tickets = "tickets"
    feedback = "feedback"
    synthetic = "synthetic"


def _setup() -> None:
    from winnow.log import configure_logging

    configure_logging(get_settings())


@app.command()
def serve(name: Annotated[Service, typer.Argument(help="The service to run.")]) -> None:
    """Run one service (a faust worker) until SIGTERM."""
    from winnow.agents import curator, scorer, validator
    from winnow.agents.runtime import run_worker
    from winnow.kafka.admin import ensure_topics
    from winnow.store.migrate import upgrade

    _setup()
    settings = get_settings()
    if name is Service.scorer and settings.scorer_workers > 1:
        from winnow.agents.workers import run_worker_group

        run_worker_group(name.value, settings, settings.scorer_workers)
        return
    if name is Service.gateway:
        from winnow.gateway.app import run

        run(settings)
        return
    if name is Service.monitor:
        from winnow.monitor.cli import serve_monitor

        serve_monitor()
        return
    if name is Service.curator and settings.db_auto_migrate:
        upgrade(settings.database_url)
    # One loop for the set-up and the worker: faust runs on the current event loop.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings))
    builders = {"validator": validator.build, "scorer": scorer.build, "curator": curator.build}
    faust_app = builders[name.value](settings)
    run_worker(faust_app, settings, loop)


@app.command()
def broker(
    port: Annotated[int, typer.Option(help="Loopback port; 0 picks a free one.")] = 9092,
) -> None:
    """Run the embedded Kafka-protocol broker (Tansu, memory storage) until Ctrl-C."""
    from winnow.kafka.broker import TansuBroker

    with TansuBroker(port=port or None) as b:
        typer.echo(f"broker listening on {b.bootstrap} (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


@app.command()
def up(
    embedded_broker: Annotated[
        bool,
        typer.Option(
            "--embedded-broker/--external-broker", help="Start Tansu or use WINNOW_KAFKA_BOOTSTRAP."
        ),
    ] = True,
) -> None:
    """Run the broker and every service under one supervisor; Ctrl-C stops them all."""
    from winnow.agents.supervisor import Supervisor, stop_on_signals

    _setup()
    stop_on_signals()
    settings = get_settings()
    with Supervisor(
        settings, embedded_broker=embedded_broker, log_dir=settings.data_dir / "logs"
    ) as sup:
        sup.wait_ready()
        bootstrap = sup.broker.bootstrap if sup.broker else settings.kafka_bootstrap
        typer.echo(
            f"winnow is up: broker {bootstrap}; services "
            + ", ".join(f"{c.name} :{c.port}" for c in sup.children)
            + f"; logs in {settings.data_dir / 'logs'}. Ctrl-C stops."
        )
        sup.run_forever()


@app.command()
def demo(
    events: Annotated[int, typer.Option(min=1, help="Events to generate.")] = 1000,
    bad_fraction: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of malformed events.")
    ] = 0.1,
    seed: Annotated[
        int, typer.Option(help="Generator seed (content; event ids are always new).")
    ] = 7,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for every event's outcome.")
    ] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object only.")] = False,
) -> None:
    """Start everything, stream generated events, wait for every outcome, print a summary."""
    import os

    from winnow.agents.supervisor import stop_on_signals
    from winnow.demo.run import run_demo

    _setup()
    stop_on_signals()
    settings = get_settings()
    if "WINNOW_DATABASE_URL" not in os.environ:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        db = (settings.data_dir / "demo" / f"winnow-{stamp}.db").resolve()
        settings = settings.model_copy(update={"database_url": f"sqlite:///{db}"})
    summary = run_demo(
        settings,
        events=events,
        bad_fraction=bad_fraction,
        seed=seed,
        timeout_s=timeout,
        progress=not as_json,
        log_dir=settings.data_dir / "logs",
    )
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), sort_keys=True))
    else:
        typer.echo(
            f"\nproduced {summary.produced} events in {summary.seconds} s "
            f"({summary.malformed_planted} malformed, {summary.duplicates_planted} re-sent)\n"
            f"  curated  {summary.curated:6d} events ({summary.examples_curated} examples)\n"
            f"  rejected {summary.rejected:6d} events ({summary.examples_rejected} examples): "
            f"{summary.rejected_by_reason}\n"
            f"  dlq      {summary.dlq:6d} events: {summary.dlq_by_reason}\n"
            f"  store    {summary.database}"
        )
    if not summary.complete:
        typer.echo(f"not every event was accounted for ({summary.pending} pending)", err=True)
        raise typer.Exit(1)


@app.command()
def generate(
    events: Annotated[int, typer.Option(min=1, help="Records to generate.")] = 1000,
    out: Annotated[
        Path, typer.Option(help="JSONL file to write (one raw record per line).")
    ] = Path("events.jsonl"),
    bad_fraction: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    duplicate_fraction: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.05,
    pii_fraction: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.1,
    seed: int = 7,
) -> None:
    """Write generated source events to a JSONL file (feed it to `winnow ingest`)."""
    from tqdm import tqdm

    from winnow.demo.generator import EventGenerator

    gen = EventGenerator(
        seed=seed,
        bad_fraction=bad_fraction,
        duplicate_fraction=duplicate_fraction,
        pii_fraction=pii_fraction,
    )
    with out.open("wb") as fh:
        for record in tqdm(gen.records(events), total=events, desc="generate", unit="ev"):
            fh.write(record.value.replace(b"\n", b" ") + b"\n")
    typer.echo(f"wrote {events} records to {out}")


@app.command()
def ingest(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSONL, one event per line.")
    ],
    source: Annotated[
        SourceName, typer.Option("--type", help="Source topic to write to.")
    ] = SourceName.auto,
) -> None:
    """Backfill: produce every line of a JSONL file to its source topic, with a progress bar.

    Lines are sent as they are, so malformed lines reach the validator and its DLQ.
    """
    from tqdm import tqdm

    from winnow.kafka.produce import produce
    from winnow.topics import SOURCE_FOR_TYPE, TopicLayout

    settings = get_settings()
    layout = TopicLayout.from_settings(settings)

    def topic_for(line: bytes) -> str:
        if source is not SourceName.auto:
            return layout.source(source.value)
        try:
            kind = json.loads(line).get("type")
        except (ValueError, AttributeError):
            kind = None
        return layout.source(SOURCE_FOR_TYPE.get(kind, settings.source_topics[0]))

    total = sum(1 for line in file.open("rb") if line.strip())
    with file.open("rb") as fh, tqdm(total=total, desc="ingest", unit="ev") as bar:
        records = ((topic_for(line), None, line.rstrip(b"\r\n")) for line in fh if line.strip())
        sent = asyncio.run(produce(settings, records, on_sent=bar.update))
    typer.echo(f"produced {sent} records")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Wait for the database, then apply Alembic migrations."""
    from winnow.store.migrate import upgrade as do_upgrade

    _setup()
    do_upgrade(get_settings().database_url, revision)
    typer.echo("store schema is up to date")


@topics_app.command("create")
def topics_create() -> None:
    """Create every missing topic of the layout."""
    from winnow.kafka.admin import ensure_topics

    created = asyncio.run(ensure_topics(get_settings()))
    typer.echo(f"created {len(created)} topics: {', '.join(created) or '-'}")


@topics_app.command("list")
def topics_list() -> None:
    """Print the topic layout."""
    from winnow.topics import TopicLayout

    for name in TopicLayout.from_settings(get_settings()).all():
        typer.echo(name)


@schemas_app.command("export")
def schemas_export(
    directory: Annotated[
        Path, typer.Option("--dir", help="Target directory (run from the repository root).")
    ] = Path("schemas"),
    check: Annotated[bool, typer.Option(help="Fail if files differ instead of writing.")] = False,
) -> None:
    """Write the JSON Schemas of every event and record model."""
    from winnow.cli.schemas import export_schemas, stale_schemas

    if check:
        stale = stale_schemas(directory)
        if stale:
            typer.echo(f"stale schemas: {stale}; run `winnow schemas export`", err=True)
            raise typer.Exit(1)
        typer.echo("schemas are current")
        return
    names = export_schemas(directory)
    typer.echo(f"wrote {len(names)} schemas to {directory}")


@settings_app.command("doc")
def settings_doc(
    path: Annotated[
        Path, typer.Option(help="Markdown file holding the table (run from the repository root).")
    ] = Path("docs/configuration.md"),
    check: Annotated[
        bool, typer.Option(help="Fail if the table is stale instead of writing.")
    ] = False,
) -> None:
    """Regenerate the settings table in docs/configuration.md."""
    from winnow.cli.settings_doc import doc_is_current, update_doc

    if check:
        if not doc_is_current(path):
            typer.echo(f"{path} is stale; run `winnow settings doc`", err=True)
            raise typer.Exit(1)
        typer.echo("settings table is current")
        return
    changed = update_doc(path)
    typer.echo(f"{path}: {'updated' if changed else 'unchanged'}")
