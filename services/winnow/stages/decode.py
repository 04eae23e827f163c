"""Raw bytes from a source topic -> a validated source event, or a dead letter saying why not."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import ValidationError

from winnow.events import EVENT_TYPES, SOURCE_EVENT_ADAPTER, DeadLetter, SourceEvent
from winnow.reasons import DeadLetterReason

_MAX_ERROR_CHARS = 2000


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
    # Ids copied from a bad record may hold NUL, which PostgreSQL text refuses.
    event_id = event_id.replace("\x00", "") if event_id else event_id
    tenant = tenant.replace("\x00", "") if tenant else tenant
    return DeadLetter(
        id=hashlib.sha256(key).hexdigest(),
        reason=reason,
        error=error[:_MAX_ERROR_CHARS],
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


def decode_event(raw: bytes, coords: Coordinates, *, max_bytes: int) -> SourceEvent | DeadLetter:
    """Decode and validate one source record; every failure becomes a dead letter with a reason."""

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
    try:
        return SOURCE_EVENT_ADAPTER.validate_python(doc)
    except ValidationError as exc:
        return dlq(
            DeadLetterReason.SCHEMA_VIOLATION, _summarise(exc), event_id=event_id, tenant=tenant
        )
