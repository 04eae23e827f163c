"""``winnow export``: write a snapshot of one tenant's curated examples to a folder or a URL."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from winnow.export.formats import ExportFormat

if TYPE_CHECKING:
    from winnow.export.exporter import ExportResult
    from winnow.settings import Settings
    from winnow.store.store import ExampleStore


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
    out: Annotated[
        str,
        typer.Option(
            help="Destination: a folder (absent or empty) or a URL (s3://, gs://, az://, "
            "file://) with no snapshot at it yet."
        ),
    ],
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
    eval_set: Annotated[
        Path | None,
        typer.Option(
            help="Evaluation prompts (JSONL with `prompt`, or text lines): examples that overlap "
            "them are removed from every split and counted."
        ),
    ] = None,
    push_to_hub: Annotated[
        str | None,
        typer.Option(help="Also upload the snapshot to this Hub dataset repo (needs HF_TOKEN)."),
    ] = None,
) -> None:
    """Export curated examples per domain, with a manifest, a dataset card and a store record."""
    from winnow.export.exceptions import ExportError
    from winnow.settings import get_settings
    from winnow.store.store import ExampleStore

    settings = get_settings()
    store = ExampleStore(settings.database_url)
    with tempfile.TemporaryDirectory(prefix="winnow-export-") as tmp:
        try:
            result = _run(
                store, settings, tenant, out, fmt, domain, since, min_reward, eval_set, Path(tmp)
            )
            if push_to_hub is not None:
                from winnow.export.push import push_to_hub as push

                where = push(result.path, push_to_hub, snapshot_id=result.snapshot_id)
                typer.echo(f"pushed to {where}")
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
        f"compute-optimal, {m['conflicts']['label_conflicts']} label conflicts, "
        f"{m['splits']['decontamination'].get('removed', 0)} decontaminated -> {out}"
    )


def _run(
    store: ExampleStore,
    settings: Settings,
    tenant: str,
    out: str,
    fmt: ExportFormat,
    domain: str | None,
    since: str | None,
    min_reward: float | None,
    eval_set: Path | None,
    staging: Path,
) -> ExportResult:
    """Export to ``out``: directly into a local folder, or built in ``staging`` and published."""
    from tqdm import tqdm

    from winnow.export import storage
    from winnow.export.exceptions import ExportError
    from winnow.export.exporter import ExportResult, export_snapshot, options_from, record
    from winnow.export.tokens import token_counter
    from winnow.store.queries import ExampleQuery

    query = ExampleQuery(tenant, domain, _parse_time(since), min_reward)
    remote = storage.is_url(out)
    options = settings.snapshot_storage_options
    if remote and storage.exists(out, options):
        raise ExportError(f"{out} already holds a snapshot: choose another destination")
    folder = staging / "snapshot" if remote else Path(out)
    result = export_snapshot(
        store,
        query,
        fmt,
        folder,
        counter=token_counter(settings.models_dir, settings.export_tokenizer),
        progress=lambda rows: tqdm(rows, desc="export", unit="ex"),
        options=options_from(settings, eval_set),
    )
    if remote:
        storage.publish(folder, out, options)
        result = ExportResult(folder, result.manifest, result.watermark, url=out)
    record(store, result, "export")
    return result
