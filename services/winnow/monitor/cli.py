"""The monitor's commands: ``winnow alerts`` (and the body of ``winnow serve monitor``)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from winnow.settings import get_settings


def alerts(
    active: Annotated[bool, typer.Option("--active", help="Only alerts firing now.")] = False,
    limit: Annotated[int, typer.Option(help="Most alerts listed, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List active and recent data-quality alerts from the store."""
    from rich.console import Console
    from rich.table import Table

    from winnow.monitor.store import MonitorStore

    store = MonitorStore(get_settings().database_url)
    try:
        rows = store.alerts(active_only=active, limit=limit)
    finally:
        store.close()
    if as_json:
        for a in rows:
            doc = {**vars(a), "started_at": a.started_at.isoformat()}
            doc["ended_at"] = a.ended_at.isoformat() if a.ended_at else None
            typer.echo(json.dumps(doc))
        return
    table = Table("status", "severity", "rule", "labels", "value", "started", "ended", "summary")
    for a in rows:
        table.add_row(
            a.status,
            a.severity,
            a.rule,
            ",".join(f"{k}={v}" for k, v in a.labels.items()),
            f"{a.value:.4g}",
            a.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            a.ended_at.strftime("%H:%M:%S") if a.ended_at else "",
            a.summary,
        )
    Console().print(table)


def serve_monitor() -> None:
    """Run the monitor until SIGTERM (creates topics first, like the other services)."""
    import faust

    from winnow.kafka.admin import ensure_topics
    from winnow.log import configure_logging
    from winnow.monitor.service import build

    settings = get_settings()
    configure_logging(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings))
    worker = faust.Worker(
        build(settings),
        loop=loop,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    )
    worker.execute_from_commandline()
