"""Administration: ``winnow db``, ``winnow topics``, ``winnow schemas``, ``winnow settings``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from winnow.settings import get_settings

db_app = typer.Typer(help="The retraining store's schema.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics of the layout.", no_args_is_help=True)
schemas_app = typer.Typer(help="JSON Schemas of events and records.", no_args_is_help=True)
settings_app = typer.Typer(help="WINNOW_* settings.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Wait for the database, then apply Alembic migrations."""
    from winnow.log import configure_logging
    from winnow.store.migrate import upgrade

    configure_logging(get_settings())
    upgrade(get_settings().database_url, revision)
    typer.echo("store schema is up to date")


@topics_app.command("create")
def topics_create() -> None:
    """Create every missing topic of the layout."""
    from winnow.cli.errors import exit_on_error
    from winnow.kafka.admin import ensure_topics
    from winnow.kafka.discovery import client_settings, one_line_errors

    settings = client_settings(get_settings())
    with exit_on_error(), one_line_errors(settings):
        created = asyncio.run(ensure_topics(settings, timeout_s=10.0))
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
