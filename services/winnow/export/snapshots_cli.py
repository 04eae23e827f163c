"""``winnow snapshots list|show|prune``: the snapshots under the configured URL.

Only folders with a manifest are snapshots (see :mod:`winnow.export.storage`). Pruning removes
files, never the store's record of a snapshot: the retrain trigger's watermarks stay.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated

import typer

snapshots_app = typer.Typer(
    help="List, inspect and prune retrain snapshots under WINNOW_SNAPSHOT_URL.",
    no_args_is_help=True,
)

RootOption = Annotated[
    str | None, typer.Option("--url", help="Root to read instead of the configured one.")
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _root(url: str | None) -> tuple[str, dict[str, object]]:
    from winnow.settings import get_settings

    settings = get_settings()
    return url or settings.snapshot_root, settings.snapshot_storage_options


@snapshots_app.command("list")
def list_snapshots(url: RootOption = None) -> None:
    """One line per complete snapshot: id, tenant, domain, examples, rows, URL."""
    from winnow.export import storage

    root, options = _root(url)
    found = list(storage.list_snapshots(root, options))
    for s in found:
        m = s.manifest
        domain = m.get("filters", {}).get("domain") or "*"
        counts = m.get("counts", {})
        typer.echo(
            f"{s.snapshot_id[:12]}  {m.get('tenant')}  {domain}  "
            f"{counts.get('examples', 0)} examples  {counts.get('rows', 0)} rows  {s.url}"
        )
    typer.echo(f"{len(found)} snapshots under {root}", err=True)


@snapshots_app.command("show")
def show(
    snapshot: Annotated[str, typer.Argument(help="A snapshot id (or its prefix) or URL.")],
    url: RootOption = None,
) -> None:
    """The manifest of one snapshot (counts, configs, splits, conflicts, files) as JSON."""
    from winnow.export import storage
    from winnow.export.exceptions import ExportError

    root, options = _root(url)
    try:
        if storage.is_url(snapshot) or snapshot.startswith("/"):
            manifest = storage.read_manifest(snapshot, options)
        else:
            matches = [
                s
                for s in storage.list_snapshots(root, options)
                if s.snapshot_id.startswith(snapshot)
            ]
            if len({s.snapshot_id for s in matches}) != 1:
                raise ExportError(
                    f"{len(matches)} snapshots under {root} match {snapshot!r}: "
                    "give a longer id or the URL"
                )
            manifest = matches[0].manifest
    except ExportError as exc:
        typer.echo(f"snapshots show failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False))


@snapshots_app.command("prune")
def prune(
    keep: Annotated[
        int, typer.Option(min=1, help="Newest complete snapshots kept per tenant and domain.")
    ] = 3,
    incomplete: Annotated[
        bool, typer.Option(help="Also remove folders a cut-short copy left without a manifest.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Only print what would be removed.")] = False,
    url: RootOption = None,
) -> None:
    """Remove all but the newest ``--keep`` snapshots of each (tenant, domain)."""
    from winnow.export import storage

    root, options = _root(url)
    groups: dict[str, list[storage.StoredSnapshot]] = defaultdict(list)
    for s in storage.list_snapshots(root, options):
        groups[s.url.rstrip("/").rsplit("/", 1)[0]].append(s)
    doomed = []
    for members in groups.values():
        members.sort(key=lambda s: (s.written_at or _EPOCH, s.url), reverse=True)
        doomed += [s.url for s in members[keep:]]
    if incomplete:
        doomed += storage.incomplete(root, options)
    for target in sorted(doomed):
        typer.echo(f"{'would remove' if dry_run else 'removing'} {target}")
        if not dry_run:
            storage.remove(target, options)
    typer.echo(f"{len(doomed)} removed{' (dry run)' if dry_run else ''}", err=True)
