"""What every helpdesk converter shares: reading an export file, the event it builds
(:func:`convert_record` over a vendor-neutral :class:`Ticket`), reasons, text and time helpers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from winnow.errors import ConfigurationError
from winnow.events import SupportTicketEvent


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


@dataclass
class Ticket:
    """What a converter reads out of one vendor record; :func:`convert_record` makes it an event.

    ``version`` (the record's last update) goes into the event id: re-importing one export
    collapses, an updated ticket is a new event.
    """

    ticket_id: str
    version: str | None
    channel: str
    created_at: str | None
    status: str
    turns: list[dict[str, Any]]
    csat: int | None = None
    tags: list[str] = field(default_factory=list)
    category: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def convert_record(
    vendor: str,
    noun: str,
    record: Any,
    tenant: str,
    read: Callable[[dict[str, Any]], Ticket],
) -> Converted | Rejected:
    """``read`` one vendor record into a ``winnow.support_ticket.v1`` event document, or the
    reason it cannot be one (``read`` raises ValueError / TypeError / AttributeError / KeyError
    with it; the event's own validation errors count too)."""
    original = json.dumps(record, ensure_ascii=False, default=str).encode()
    if not isinstance(record, dict) or record.get("id") is None:
        return Rejected(original, f"{vendor}: a {noun} must be an object with an `id`")
    record_id = str(record["id"])
    try:
        ticket = read(record)
        event = {
            "specversion": "1.0",
            "id": f"{vendor}:{ticket.ticket_id}:{ticket.version}",
            "source": vendor,
            "type": "winnow.support_ticket.v1",
            "time": ticket.version,
            "tenant": tenant,
            "subject": ticket.ticket_id,
            "data": {
                "ticket_id": ticket.ticket_id,
                "channel": ticket.channel,
                "created_at": ticket.created_at,
                "resolved_at": ticket.version if ticket.status == "resolved" else None,
                "turns": ticket.turns,
                "status": ticket.status,
                "csat": ticket.csat,
                "tags": ticket.tags,
                "category": ticket.category,
                "metadata": ticket.metadata,
            },
        }
        # Checked here so a bad record is dead-lettered with a reason that names the vendor.
        SupportTicketEvent.model_validate_json(json.dumps(event, default=str))
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        reason = _summarise(exc) if isinstance(exc, ValidationError) else str(exc)
        return Rejected(original, f"{vendor} {noun} {record_id}: {reason}", record_id)
    return Converted(json.loads(json.dumps(event, default=str)))


def _summarise(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    )[:500]


def conversation(turns: list[dict[str, Any]], what: str) -> list[dict[str, Any]]:
    """The turns in time order, empty ones dropped; ValueError naming ``what`` when none is left."""
    kept = [t for t in turns if str(t.get("text") or "").strip()]
    if not kept:
        raise ValueError(f"no {what} with text")
    return sorted(kept, key=lambda t: str(t.get("time") or ""))


def unmapped(record: dict[str, Any], mapped: Iterable[str]) -> dict[str, Any]:
    """The record's fields no converter maps: kept in the ticket's ``metadata``."""
    skip = set(mapped)
    return {k: v for k, v in record.items() if k not in skip}


def first_tag_or(value: Any, tags: list[str]) -> str | None:
    """The category: a custom field's value when it has one, else the first tag."""
    if value not in (None, "", []):
        return str(value)
    return tags[0] if tags else None


def iso_time(value: Any) -> str | None:
    """An API timestamp as ISO 8601: Unix seconds (Intercom) or a string as it is."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"timestamp {value!r} is neither Unix seconds nor a string")
    return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")


class _Text(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(body: Any) -> str:
    """The text of an HTML message body (Intercom, Freshdesk): tags gone, entities decoded,
    blocks and ``<br>`` as line breaks, runs of blank space collapsed."""
    if body is None:
        return ""
    parser = _Text()
    parser.feed(str(body))
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
