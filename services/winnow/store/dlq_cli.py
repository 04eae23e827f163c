"""`winnow dlq keygen|show|purge`: the stored dead letters, for operators."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

dlq_app = typer.Typer(
    help="Dead letters: show (and decrypt), purge, make a key.", no_args_is_help=True
)


@dlq_app.command("keygen")
def keygen() -> None:
    """Print a new WINNOW_DLQ_KEY (store it in a Secret; losing it loses the originals)."""
    from winnow.pii.sealing import new_key

    typer.echo(new_key())


def _sealer() -> object:
    from winnow.errors import ConfigurationError
    from winnow.pii.sealing import DlqSealer
    from winnow.settings import get_settings

    key = get_settings().dlq_key
    try:
        return DlqSealer.from_text(key.get_secret_value() if key else None)
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from None


@dlq_app.command("show")
def show(
    limit: Annotated[int, typer.Option(min=1, help="Newest letters to show.")] = 20,
    letter_id: Annotated[str | None, typer.Option("--id", help="Only this letter.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's letters.")] = None,
    decrypt: Annotated[
        bool,
        typer.Option(
            "--decrypt", help="Print each original, opened with WINNOW_DLQ_KEY (operators only)."
        ),
    ] = False,
) -> None:
    """List stored dead letters: id, when, stage, reason, error and how the original is kept."""
    from winnow.pii.sealing import DlqSealer, SealError, is_redacted, is_sealed
    from winnow.settings import get_settings
    from winnow.store.deadletters import list_dead_letters
    from winnow.store.store import make_engine

    sealer = _sealer()
    assert isinstance(sealer, DlqSealer)
    if decrypt and not sealer.encrypts:
        raise typer.BadParameter("--decrypt needs the key: set WINNOW_DLQ_KEY or _FILE")
    engine = make_engine(get_settings().database_url)
    try:
        rows = list_dead_letters(engine, limit=limit, letter_id=letter_id, tenant=tenant)
    finally:
        engine.dispose()
    for row in rows:
        original: bytes = row["original"]
        kept = "sealed" if is_sealed(original) else "redacted" if is_redacted(original) else "plain"
        typer.echo(
            f"{row['id']}  {row['failed_at']}  {row['stage']}  {row['reason']}  "
            f"tenant={row['tenant']}  {kept} {len(original)} B  {row['error']}"
        )
        if decrypt:
            try:
                typer.echo(sealer.open(original, row["id"]).decode("utf-8", errors="replace"))
            except SealError as exc:
                typer.echo(f"  cannot open: {exc}")
    if not rows:
        typer.echo("no dead letters")


@dlq_app.command("purge")
def purge(
    older_than: Annotated[
        str | None,
        typer.Option(
            help="Delete dead letters older than this (e.g. 7d, 12h); default "
            "WINNOW_DLQ_RETENTION_DAYS (the chart's CronJob passes deadLetters.retentionDays)."
        ),
    ] = None,
    days: Annotated[float | None, typer.Option(help="The same in days.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Count what would go; delete nothing.")] = False,
) -> None:
    """Delete dead letters past the retention window (the curator also does hourly)."""
    from winnow.errors import WinnowError
    from winnow.settings import get_settings
    from winnow.store.retention import expire_dead_letters, parse_age
    from winnow.store.store import make_engine

    settings = get_settings()
    try:
        age = parse_age(older_than) if older_than is not None else None
    except WinnowError as exc:
        raise typer.BadParameter(str(exc), param_hint="--older-than") from exc
    age = age or timedelta(days=settings.dlq_retention_days if days is None else days)
    engine = make_engine(settings.database_url)
    try:
        n = expire_dead_letters(engine, age, dry_run=dry_run)
    finally:
        engine.dispose()
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {n} dead letters older than {age}")
