"""What every helpdesk converter returns, and how an export file is read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winnow.errors import ConfigurationError


@dataclass(frozen=True)
class Converted:
    """A source record turned into a ``winnow.support_ticket.v1`` event document."""

    event: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    """A source record that could not be converted, with the reason (it is dead-lettered)."""

    original: bytes
    error: str
    record_id: str | None = None


def read_records(path: Path, key: str) -> Iterator[tuple[dict[str, Any] | Any, dict[str, Any]]]:
    """Records of an export: a JSON object holding a ``key`` list (side-loads beside it), a bare
    JSON list, or JSON Lines; yields (record, side-loads of the whole document)."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get(key), list):
        side = {k: v for k, v in doc.items() if k != key}
        for record in doc[key]:
            yield record, side
        return
    if isinstance(doc, list):
        for record in doc:
            yield record, {}
        return
    if isinstance(doc, dict):
        yield doc, {}
        return
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line), {}
        except json.JSONDecodeError as exc:
            if n == 1:
                raise ConfigurationError(
                    f"{path} is neither JSON nor JSON Lines (line 1: {exc.msg}): pass the "
                    f"export file holding the `{key}` list"
                ) from exc
            yield line, {}
