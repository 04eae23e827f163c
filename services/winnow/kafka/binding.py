"""The CloudEvents 1.0 Kafka protocol binding: binary mode in, binary-mode headers out.

Structured mode (the whole event as JSON in the value, ``content-type:
application/cloudevents+json``) needs nothing: the validator decodes the value as it is. Binary
mode carries the attributes in ``ce_*`` headers and ``data`` alone in the value;
:func:`structured_from_binary` turns such a record into the structured form before decoding, so
one decoder (and one dead-letter path) serves both. Winnow's own records (examples, retrain and
alert events) go out in binary mode: their values stay what consumers already read, and the
``ce_*`` headers make each one a CloudEvent. The gateway reads the HTTP binding's binary mode
(``ce-*`` headers, percent-encoded) through the same function.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from winnow.example import Example

HEADER_PREFIX = "ce_"
CONTENT_TYPE = "content-type"
SOURCE = "urn:winnow"
"""``source`` of the events Winnow emits (``urn:winnow:<service>``)."""

Headers = Mapping[str, bytes] | Iterable[tuple[str, bytes]] | Iterable[tuple[str, str]] | None
"""Kafka record headers (bytes values) or HTTP headers (text values)."""


def _pairs(headers: Headers) -> list[tuple[str, bytes | str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def is_binary(headers: Headers, *, prefix: str = HEADER_PREFIX) -> bool:
    """True when the record is a binary-mode CloudEvent (it has a ``ce_specversion`` header)."""
    return any(k.lower() == f"{prefix}specversion" for k, _ in _pairs(headers))


def structured_from_binary(
    headers: Headers, value: bytes, *, prefix: str = HEADER_PREFIX, percent_encoded: bool = False
) -> bytes:
    """The structured-mode JSON of a binary-mode record, ``value`` spliced in as ``data``.

    The value is not parsed here: invalid JSON or UTF-8 in it reaches the decoder, which
    dead-letters it with the usual reason. Header values that are not UTF-8 are replaced
    character-wise and then fail validation where they matter. The HTTP binding uses the
    ``ce-`` prefix and percent-encodes header values (``percent_encoded``); Kafka's is ``ce_``.
    """
    attributes: dict[str, str] = {}
    for key, raw in _pairs(headers):
        name = key.lower()
        text = raw if isinstance(raw, str) else bytes(raw or b"").decode("utf-8", errors="replace")
        if percent_encoded:
            text = unquote(text)
        if name.startswith(prefix) and len(name) > len(prefix):
            attributes[name[len(prefix) :]] = text
        elif name == CONTENT_TYPE:
            attributes["datacontenttype"] = text
    attributes.pop("data", None)  # ``data`` is the value, never a header
    head = json.dumps(attributes, ensure_ascii=False).encode()
    if not value:
        return head
    return head[:-1] + (b", " if attributes else b"") + b'"data": ' + value + b"}"


def binary_headers(
    *,
    event_type: str,
    event_id: str,
    service: str,
    time: datetime,
    subject: str | None = None,
    extensions: Mapping[str, str] | None = None,
) -> list[tuple[str, bytes]]:
    """Kafka headers that make a JSON record value a binary-mode CloudEvent."""
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"{SOURCE}:{service}",
        "type": event_type,
        "time": time.isoformat(),
    }
    if subject is not None:
        attributes["subject"] = subject
    attributes.update(extensions or {})
    headers = [(f"{HEADER_PREFIX}{k}", str(v).encode()) for k, v in attributes.items()]
    headers.append((CONTENT_TYPE, b"application/json"))
    return headers


def examples_as_cloudevents(
    examples: Iterable[Example],
    status: str,
    service: str,
    more_headers: Callable[[Example], list[tuple[str, bytes]]] | None = None,
) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """Curated or rejected examples keyed by id, each a binary-mode CloudEvent
    (``winnow.example.<status>.v1``; the value is the ``Example`` JSON consumers read).

    ``more_headers`` adds each example's own (its trace context)."""
    now = datetime.now(UTC)
    return [
        (
            e.id.encode(),
            e.model_dump_json().encode(),
            binary_headers(
                event_type=f"winnow.example.{status}.v1",
                event_id=e.id,
                service=service,
                time=now,
                subject=e.source.event_id,
                extensions={"tenant": e.tenant},
            )
            + (more_headers(e) if more_headers else []),
        )
        for e in examples
    ]
