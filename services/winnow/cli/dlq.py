"""`winnow dlq ...`: the dead-letter queue's stored copy (``purge`` here; others may add more)."""

from __future__ import annotations

from typing import Annotated

import typer

dlq_app = typer.Typer(help="Dead letters in the store.", no_args_is_help=True)


@dlq_app.command("purge")
def purge(
    older_than: Annotated[
        str | None,
        typer.Option(
            help="Delete dead letters older than this (e.g. 7d, 12h); default "
            "WINNOW_DLQ_RETENTION_DAYS.",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Count what would go; delete nothing.")] = False,
) -> None:
    """Delete dead letters past the retention window (the chart runs this as a CronJob)."""
    from datetime import timedelta

    from winnow.errors import WinnowError
    from winnow.settings import get_settings
    from winnow.store.retention import parse_age, purge_dead_letters
    from winnow.store.store import make_engine

    settings = get_settings()
    try:
        age = (
            parse_age(older_than)
            if older_than is not None
            else timedelta(days=settings.dlq_retention_days)
        )
    except WinnowError as exc:
        raise typer.BadParameter(str(exc), param_hint="--older-than") from exc
    engine = make_engine(settings.database_url)
    try:
        removed = purge_dead_letters(engine, age, dry_run=dry_run)
    finally:
        engine.dispose()
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {removed} dead letters older than {age}")
