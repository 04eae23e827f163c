"""Raw bytes from a source topic -> a validated source event, or a dead letter saying why not."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError

from winnow.events import EVENT_TYPES, SOURCE_EVENT_ADAPTER, DeadLetter, SourceEvent
from winnow.pii.redact import redact_pii
from winnow.reasons import DeadLetterReason

_MAX_ERROR_CHARS = 2000
SurrogatePolicy = Literal["refuse", "replace"]
"""What a lone UTF-16 surrogate in a string does: refuse the event, or become U+FFFD."""
_SURROGATE = re.compile("[\ud800-\udfff]")
# JSON can carry a surrogate only as an escape (UTF-8 bytes of one are invalid UTF-8), so text
# without a `\\uD8..`-`\\uDF..` escape needs no walk.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def printable(text: str) -> str:
    """``text`` safe to store, log and serialise: lone surrogates escaped, NUL dropped."""
    if _SURROGATE.search(text):
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "")


def _strings(doc: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string of a JSON document (keys included) with the path of where it sits."""
    if isinstance(doc, str):
        yield path, doc
    elif isinstance(doc, dict):
        for key, value in doc.items():
            yield (*path, key), key
            yield from _strings(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _strings(value, (*path, str(index)))


def _replace_surrogates(doc: Any) -> Any:
    if isinstance(doc, str):
        return _SURROGATE.sub("\ufffd", doc)
    if isinstance(doc, dict):
        return {_SURROGATE.sub("\ufffd", k): _replace_surrogates(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_replace_surrogates(v) for v in doc]
    return doc


def lone_surrogate(doc: Any) -> str | None:
    """Where the first lone UTF-16 surrogate of a decoded document sits, as an error; or None."""
    for path, value in _strings(doc):
        if found := _SURROGATE.search(value):
            where = printable(".".join(path)) or "<root>"
            return (
                f"{where}: lone UTF-16 surrogate \\u{ord(found.group()):04x} at character "
                f"{found.start()} (a string cut inside a surrogate pair; send valid UTF-16)"
            )
    return None


@dataclass(frozen=True, slots=True)
class Coordinates:
    """Where a record sits in Kafka; None parts for records that did not come from a topic."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


def dead_letter(
    raw: bytes,
    coords: Coordinates,
    reason: DeadLetterReason,
    error: str,
    *,
    stage: Literal["validator", "scorer", "curator"],
    event_id: str | None = None,
    tenant: str | None = None,
) -> DeadLetter:
    """Build a dead letter whose id is stable across redeliveries of the same record."""
    # Coordinates plus content: a redelivery collapses onto the same id, while a new record that
    # reuses an offset (a recreated topic, a fresh embedded broker) does not.
    where = f"{stage}|{coords.topic}|{coords.partition}|{coords.offset}|".encode()
    key = where + hashlib.sha256(raw).digest()
    # Ids copied from a bad record may hold NUL, which PostgreSQL text refuses, or a lone
    # surrogate, which no UTF-8 encoder takes (the gateway answered 500). The id is redacted as
    # its log line is: a client id can carry an e-mail or a card number.
    event_id = redact_pii(printable(event_id)).text if event_id else event_id
    tenant = printable(tenant) if tenant else tenant
    return DeadLetter(
        id=hashlib.sha256(key).hexdigest(),
        reason=reason,
        error=printable(error[:_MAX_ERROR_CHARS]),
        stage=stage,
        original=raw,
        topic=coords.topic,
        partition=coords.partition,
        offset=coords.offset,
        event_id=event_id,
        tenant=tenant,
        failed_at=datetime.now(UTC),
    )


def _summarise(exc: ValidationError) -> str:
    # Locations and messages only: pydantic's default text would echo customer input.
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    )


def decode_event(
    raw: bytes, coords: Coordinates, *, max_bytes: int, surrogates: SurrogatePolicy = "refuse"
) -> SourceEvent | DeadLetter:
    """Decode and validate one source record; every failure becomes a dead letter with a reason.

    A lone UTF-16 surrogate in any string is refused as ``schema_violation`` naming the field, or
    replaced by U+FFFD (``surrogates="replace"``): it cannot be redacted or stored as UTF-8.
    """

    def dlq(reason: DeadLetterReason, error: str, **ids: str | None) -> DeadLetter:
        return dead_letter(raw, coords, reason, error, stage="validator", **ids)

    if len(raw) > max_bytes:
        return dlq(DeadLetterReason.OVERSIZE, f"{len(raw)} bytes > limit of {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return dlq(DeadLetterReason.INVALID_UTF8, f"byte {exc.start}: {exc.reason}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return dlq(DeadLetterReason.INVALID_JSON, f"line {exc.lineno} col {exc.colno}: {exc.msg}")
    except (ValueError, RecursionError) as exc:
        # Found by the hypothesis properties: an integer of > 4,300 digits raises ValueError and
        # deep nesting RecursionError, neither a JSONDecodeError; both crashed the validator.
        return dlq(DeadLetterReason.INVALID_JSON, f"{type(exc).__name__}: {str(exc)[:200]}")
    if not isinstance(doc, dict):
        return dlq(
            DeadLetterReason.SCHEMA_VIOLATION, f"expected an object, got {type(doc).__name__}"
        )
    event_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    tenant = doc.get("tenant") if isinstance(doc.get("tenant"), str) else None
    event_type = doc.get("type")
    # A list or object as `type` is unhashable: checking membership directly raised TypeError.
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        return dlq(
            DeadLetterReason.UNKNOWN_TYPE,
            f"type {str(event_type)[:100]!r} is not one of {sorted(EVENT_TYPES)}",
            event_id=event_id,
            tenant=tenant,
        )
    if "\\u0000" in text:
        # JSON can carry NUL only escaped; PostgreSQL text refuses it, so the curator's write
        # would retry forever. Refused here, where it is still a record with a reason.
        return dlq(
            DeadLetterReason.SCHEMA_VIOLATION,
            "a string holds a NUL character (\\u0000)",
            event_id=event_id,
            tenant=tenant,
        )
    if _SURROGATE_ESCAPE.search(text) and (problem := lone_surrogate(doc)):
        if surrogates == "replace":
            doc = _replace_surrogates(doc)
        else:
            return dlq(DeadLetterReason.SCHEMA_VIOLATION, problem, event_id=event_id, tenant=tenant)
    try:
        return SOURCE_EVENT_ADAPTER.validate_python(doc)
    except ValidationError as exc:
        return dlq(
            DeadLetterReason.SCHEMA_VIOLATION, _summarise(exc), event_id=event_id, tenant=tenant
        )
