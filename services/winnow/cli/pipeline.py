"""Running the pipeline: ``winnow serve``, ``winnow broker``, ``winnow up``, ``winnow demo``.

Every service starts through one table (``SERVICES``): name -> a function that builds and runs it
from the settings. Heavy imports (faust, onnxruntime) stay inside those functions.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from winnow.settings import Settings, get_settings

if TYPE_CHECKING:
    from winnow.agents.runtime import WinnowApp


class Service(StrEnum):
    """Deployable services."""

    validator = "validator"
    scorer = "scorer"
    curator = "curator"
    monitor = "monitor"
    gateway = "gateway"


def _setup() -> None:
    from winnow.log import configure_logging

    configure_logging(get_settings())


def _run_faust(build: Callable[[Settings], WinnowApp], settings: Settings) -> None:
    """Create the topics, then run the faust app ``build`` makes until SIGTERM."""
    from winnow.agents.runtime import run_worker
    from winnow.kafka.admin import ensure_topics

    # One loop for the set-up and the worker: faust runs on the current event loop.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings))
    run_worker(build(settings), settings, loop)


def _serve_validator(settings: Settings) -> None:
    from winnow.agents import validator

    _run_faust(validator.build, settings)


def _serve_scorer(settings: Settings) -> None:
    if settings.scorer_workers > 1:
        from winnow.agents.workers import run_worker_group

        run_worker_group(Service.scorer.value, settings, settings.scorer_workers)
        return
    from winnow.agents import scorer

    _run_faust(scorer.build, settings)


def _serve_curator(settings: Settings) -> None:
    from winnow.agents import curator
    from winnow.store.migrate import upgrade

    if settings.db_auto_migrate:
        upgrade(settings.database_url)
    _run_faust(curator.build, settings)


def _serve_monitor(settings: Settings) -> None:
    from winnow.agents import monitor

    _run_faust(monitor.build, settings)


def _serve_gateway(settings: Settings) -> None:
    from winnow.gateway.app import run

    run(settings)


SERVICES: dict[Service, Callable[[Settings], None]] = {
    Service.validator: _serve_validator,
    Service.scorer: _serve_scorer,
    Service.curator: _serve_curator,
    Service.monitor: _serve_monitor,
    Service.gateway: _serve_gateway,
}


def serve(name: Annotated[Service, typer.Argument(help="The service to run.")]) -> None:
    """Run one service (a faust worker) until SIGTERM."""
    _setup()
    if name is not Service.gateway:  # the gateway configures its own, beside its pepper check
        from winnow.cli.errors import exit_on_error
        from winnow.tracing import configure_tracing

        with exit_on_error():
            configure_tracing(f"winnow-{name.value}")
    SERVICES[name](get_settings())


def broker(
    port: Annotated[int, typer.Option(help="Loopback port; 0 picks a free one.")] = 9092,
) -> None:
    """Run the embedded Kafka-protocol broker (Tansu, memory storage) until Ctrl-C."""
    from winnow.kafka.broker import TansuBroker
    from winnow.kafka.discovery import clear_state, write_state

    data_dir = get_settings().data_dir
    with TansuBroker(port=port or None) as b:
        state = write_state(data_dir, b.bootstrap)
        typer.echo(f"broker listening on {b.bootstrap}, recorded in {state} (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            clear_state(data_dir)


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
