"""`winnow keys create|list|revoke` (`keys_app`) and `winnow gateway openapi` (`gateway_app`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

keys_app = typer.Typer(
    help="Gateway API keys: create (shown once), list, revoke.", no_args_is_help=True
)


@contextmanager
def _keystore() -> Iterator[object]:
    from winnow.errors import ConfigurationError
    from winnow.gateway.app import _pepper
    from winnow.gateway.keys import KeyStore
    from winnow.settings import get_settings
    from winnow.store.migrate import upgrade
    from winnow.store.store import make_engine

    settings = get_settings()
    try:
        pepper = _pepper(settings)
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from None
    if settings.db_auto_migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        yield KeyStore(engine, pepper)
    finally:
        engine.dispose()


@keys_app.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="Tenant the key acts for (required).")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated scopes: ingest, export, read.")
    ] = "ingest",
    name: Annotated[str | None, typer.Option(help="A label for people.")] = None,
) -> None:
    """Create a key and print it once: only its salted hash is stored."""
    from winnow.gateway.exceptions import ApiKeyError
    from winnow.gateway.keys import KeyStore, check_tenant_name, parse_scopes

    try:
        check_tenant_name(tenant)
        parsed = parse_scopes(scopes)
    except ApiKeyError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with _keystore() as ks:
        assert isinstance(ks, KeyStore)
        key, text = ks.create(tenant, parsed, name)
    typer.echo(text)
    typer.echo(
        f"key id {key.id} for tenant {key.tenant}, scopes {','.join(sorted(key.scopes))}: "
        "store it now, it cannot be shown again",
        err=True,
    )


@keys_app.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
) -> None:
    """List keys (id, tenant, scopes, created, revoked); never the secrets."""
    from winnow.gateway.keys import KeyStore

    with _keystore() as ks:
        assert isinstance(ks, KeyStore)
        for k in ks.list(tenant):
            revoked = k.revoked_at.isoformat() if k.revoked_at else "-"
            typer.echo(
                f"{k.id}\t{k.tenant}\t{','.join(sorted(k.scopes))}\t"
                f"{k.created_at.isoformat()}\t{revoked}\t{k.name or ''}"
            )


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (`winnow keys list`).")]) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from winnow.gateway.exceptions import ApiKeyError
    from winnow.gateway.keys import KeyStore

    with _keystore() as ks:
        assert isinstance(ks, KeyStore)
        try:
            key = ks.revoke(key_id)
        except ApiKeyError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"revoked {key.id} ({key.tenant})")


gateway_app = typer.Typer(help="The HTTP ingestion gateway.", no_args_is_help=True)


@gateway_app.callback()
def _gateway() -> None:
    """The HTTP ingestion gateway (`winnow serve gateway` runs it)."""


@gateway_app.command("openapi")
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write the document.")] = Path(
        "schemas/openapi.json"
    ),
) -> None:
    """Write the gateway's OpenAPI document (checked in; a test fails when it drifts)."""
    from winnow.gateway.openapi import export_openapi

    typer.echo(f"wrote {export_openapi(out)}")
