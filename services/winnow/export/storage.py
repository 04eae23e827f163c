"""Snapshots in any fsspec location: a local folder, ``file://``, ``s3://``, ``gs://``, ``az://``.

A snapshot is built in a local staging folder, then copied file by file to its URL with
``manifest.json`` last: a reader (``winnow snapshots``, a training job) trusts a folder only once
its manifest is there, so a copy cut short is never read as a snapshot (``winnow snapshots prune
--incomplete`` removes what it left). Snapshot folders are named by their content hash, so a
retried copy writes the same bytes to the same place.

Credentials are never Winnow settings: s3fs, gcsfs and adlfs read the standard environment
(``AWS_*`` including ``AWS_ENDPOINT_URL``, IRSA web identity, GKE workload identity, Azure
workload identity). ``WINNOW_SNAPSHOT_STORAGE_OPTIONS`` passes non-secret options (an endpoint,
a region) to the filesystem.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from winnow.export.exceptions import ExportError

MANIFEST = "manifest.json"


def is_url(dest: str) -> bool:
    """Whether ``dest`` names a location by URL (``scheme://...``) rather than a local path."""
    return "://" in dest


def join(url: str, *parts: str) -> str:
    """``url`` with path parts appended (``/`` separated, whatever the scheme)."""
    return posixpath.join(url.rstrip("/"), *parts)


def _fs(url: str, options: dict[str, Any] | None) -> tuple[Any, str]:
    import fsspec  # imported on demand: s3fs and friends are heavy

    try:
        fs, path = fsspec.core.url_to_fs(url, **(options or {}))
    except (ImportError, ValueError) as exc:
        raise ExportError(
            f"cannot open {url}: {exc} (s3:// needs s3fs, gs:// gcsfs, az:// adlfs installed)"
        ) from exc
    return fs, str(path)


def exists(url: str, options: dict[str, Any] | None = None) -> bool:
    """Whether a complete snapshot (its manifest) is at ``url``."""
    fs, path = _fs(url, options)
    return bool(fs.exists(join(path, MANIFEST)))


def publish(local: Path, url: str, options: dict[str, Any] | None = None) -> None:
    """Copy the snapshot built in ``local`` to ``url``, its manifest last."""
    fs, root = _fs(url, options)
    files = sorted(p for p in local.rglob("*") if p.is_file() and p != local / MANIFEST)
    try:
        for path in files:
            _put(fs, path, join(root, path.relative_to(local).as_posix()))
        _put(fs, local / MANIFEST, join(root, MANIFEST))
    except OSError as exc:
        raise ExportError(f"writing {url} failed: {exc}") from exc


def _put(fs: Any, src: Path, dest: str) -> None:
    parent = posixpath.dirname(dest)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    fs.put_file(str(src), dest)


@dataclass(frozen=True)
class StoredSnapshot:
    """A complete snapshot found under a root URL."""

    url: str
    manifest: dict[str, Any]
    written_at: datetime | None = None
    """When its manifest was written (the object store's modification time)."""

    @property
    def snapshot_id(self) -> str:
        """The snapshot's content hash."""
        return str(self.manifest["snapshot_id"])


def _url_of(fs: Any, path: str) -> str:
    return str(fs.unstrip_protocol(path))


def list_snapshots(root: str, options: dict[str, Any] | None = None) -> Iterator[StoredSnapshot]:
    """Every complete snapshot (a folder with a manifest) under ``root``, in path order."""
    fs, base = _fs(root, options)
    if not fs.exists(base):
        return
    for path in sorted(fs.find(base)):
        if posixpath.basename(path) == MANIFEST:
            manifest = json.loads(fs.cat_file(path))
            yield StoredSnapshot(
                _url_of(fs, posixpath.dirname(path)), manifest, _modified(fs, path)
            )


def _modified(fs: Any, path: str) -> datetime | None:
    try:
        when: datetime = fs.modified(path)
    except (NotImplementedError, OSError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def incomplete(root: str, options: dict[str, Any] | None = None) -> list[str]:
    """Snapshot folders (``<tenant>/<domain>/<id>``) under ``root`` holding no manifest."""
    fs, base = _fs(root, options)
    if not fs.exists(base):
        return []
    folders: dict[str, bool] = {}
    for path in fs.find(base):
        rel = posixpath.relpath(path, base).split("/")
        if len(rel) < 4:  # tenant/domain/id/file...
            continue
        folder = join(base, *rel[:3])
        folders[folder] = folders.get(folder, False) or rel[3:] == [MANIFEST]
    return sorted(_url_of(fs, f) for f, complete in folders.items() if not complete)


def read_manifest(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of the snapshot at ``url``."""
    fs, path = _fs(url, options)
    try:
        manifest: dict[str, Any] = json.loads(fs.cat_file(join(path, MANIFEST)))
    except FileNotFoundError as exc:
        raise ExportError(f"no complete snapshot at {url} (no {MANIFEST})") from exc
    return manifest


def remove(url: str, options: dict[str, Any] | None = None) -> None:
    """Delete a snapshot folder: its manifest first, so no reader trusts a half-deleted one."""
    fs, path = _fs(url, options)
    if fs.exists(join(path, MANIFEST)):
        fs.rm_file(join(path, MANIFEST))
    fs.rm(path, recursive=True)
