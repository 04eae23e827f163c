"""``winnow export``: write a snapshot of one tenant's curated examples to a folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from winnow.export.formats import ExportFormat


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO-8601 time: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def export(
    tenant: Annotated[str, typer.Option(help="Tenant whose examples are exported (required).")],
    out: Annotated[Path, typer.Option(help="Destination folder (absent or empty).")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="File format of the per-domain files.")
    ] = ExportFormat.OPENAI_CHAT,
    domain: Annotated[
        str | None, typer.Option(help="Only this domain (`unrouted`: examples with none).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only examples curated at or after this ISO-8601 time.")
    ] = None,
    min_reward: Annotated[
        float | None, typer.Option(help="Only examples whose reward score is at least this.")
    ] = None,
) -> None:
    """Export curated examples per domain, with a manifest, a dataset card and a store record."""
    from tqdm import tqdm

    from winnow.export.conflicts import ConflictPolicy
    from winnow.export.exceptions import ExportError
    from winnow.export.exporter import export_snapshot, record
    from winnow.export.tokens import token_counter
    from winnow.settings import get_settings
    from winnow.store.queries import ExampleQuery
    from winnow.store.store import ExampleStore

    settings = get_settings()
    query = ExampleQuery(tenant, domain, _parse_time(since), min_reward)
    store = ExampleStore(settings.database_url)
    try:
        counter = token_counter(settings.models_dir, settings.export_tokenizer)
        result = export_snapshot(
            store,
            query,
            fmt,
            out,
            counter=counter,
            progress=lambda rows: tqdm(rows, desc="export", unit="ex"),
            policy=ConflictPolicy(settings.feedback_conflict_policy),
            min_count=settings.feedback_conflict_min_count,
        )
        record(store, result, "export")
    except ExportError as exc:
        typer.echo(f"export failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        store.close()
    m = result.manifest
    typer.echo(
        f"snapshot {m['snapshot_id']}: {m['counts']['examples']} examples, "
        f"{m['counts']['rows']} rows, {m['tokens']['total']} tokens "
        f"({m['tokens']['method']}), ~{m['compute_optimal']['parameters']:,} parameters "
        f"compute-optimal -> {out}"
    )
