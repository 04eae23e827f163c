"""The monitor's commands: ``winnow alerts``, ``winnow report``.

The service itself runs like every other one: ``winnow serve monitor`` (``winnow.cli.pipeline``).
"""

from __future__ import annotations

import json
from pathlib import Path
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


def report(
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    since: Annotated[
        str,
        typer.Option(help="Records from: a duration ago (30m, 24h, 7d), an ISO time, or 'all'."),
    ] = "24h",
    bucket: Annotated[
        str | None,
        typer.Option(help="Timeline bucket (30s, 5m, 1h); default: about 48 buckets."),
    ] = None,
) -> None:
    """Render the data-quality dashboard from the store as one static HTML file."""
    from winnow.monitor.dashboard import render_page
    from winnow.monitor.snapshot import parse_duration, parse_since, store_snapshot
    from winnow.monitor.store import MonitorStore

    try:
        start = parse_since(since)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from exc
    bucket_s = None
    if bucket is not None:
        seconds = parse_duration(bucket)
        if seconds is None or seconds < 1:
            raise typer.BadParameter(f"{bucket!r}: give 30s, 5m, 1h ...", param_hint="--bucket")
        bucket_s = round(seconds)
    store = MonitorStore(get_settings().database_url)
    try:
        snapshot = store_snapshot(store, since=start, bucket_s=bucket_s)
    finally:
        store.close()
    if snapshot.errors:
        typer.echo(f"winnow report: {snapshot.errors[0]}", err=True)
        raise typer.Exit(1)
    page = render_page(snapshot)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"winnow report: cannot write {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(str(out))
