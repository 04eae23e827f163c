"""Parse an ingestion body (one event, a JSON array or NDJSON) and validate each item.

Validation is the validator's own: each item goes through ``decode_event``, so the gateway refuses
exactly what the pipeline would dead-letter, with the same reasons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel, Field

from winnow.events import DeadLetter, SourceEvent
from winnow.stages.decode import Coordinates, SurrogatePolicy, decode_event

# Not `application/json-seq` (RFC 7464): its records start with RS (0x1E), which these parsers
# do not strip, so every record became `invalid_json`; refused as a whole instead (415).
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl"})
JSON_TYPE = "application/json"
IDENTITY = frozenset({"", "identity"})


class BodyError(Exception):
    """The body as a whole cannot be read (400, 413 or 415); ``status`` says which."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class GatewayReason(StrEnum):
    """Why the gateway refused one item, beyond the validator's dead-letter reasons."""

    TENANT_MISMATCH = "tenant_mismatch"
    """The event's tenant is not the API key's tenant."""


class ItemError(BaseModel):
    """One refused item of a request."""

    index: int = Field(description="Position of the item in the request (0-based).")
    id: str | None = Field(None, description="The item's event id, when it had one.")
    reason: str = Field(description="A `DeadLetterReason` value or `tenant_mismatch`.")
    error: str = Field(description="What is wrong, for people (never echoes the payload).")


class IngestResponse(BaseModel):
    """What happened to each item of an ingestion request."""

    accepted: list[str] = Field(description="Ids of events produced to the source topics.")
    duplicates: list[str] = Field(
        description="Ids already accepted within the dedup window (or twice in this request): "
        "not produced again."
    )
    rejected: list[ItemError] = Field(description="Items refused, with the reason.")


@dataclass
class Parsed:
    """Valid events with their wire bytes, and the per-item refusals."""

    events: list[tuple[int, SourceEvent, bytes]] = field(default_factory=list)
    rejected: list[ItemError] = field(default_factory=list)


def check_encoding(content_encoding: str) -> None:
    """Refuse (415) a compressed or otherwise encoded body: it would be parsed as garbage."""
    if content_encoding.strip().lower() not in IDENTITY:
        raise BodyError(
            415,
            f"unsupported Content-Encoding {content_encoding[:40]!r}; send the body uncompressed",
        )


def split_body(body: bytes, content_type: str, *, max_batch: int) -> list[bytes]:
    """The raw items of a request body; raises ``BodyError`` when the body cannot be split."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in NDJSON_TYPES:
        items = [line for line in body.splitlines() if line.strip()]
    elif media == JSON_TYPE or (media.startswith("application/") and media.endswith("+json")):
        try:
            # UTF-8 only (RFC 8259): `json.loads(bytes)` guesses UTF-16 and UTF-32, so a UTF-16
            # array was accepted while the same object was refused by the validator.
            doc = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, huge ints
            raise BodyError(400, f"body is not JSON: {type(exc).__name__}") from exc
        if isinstance(doc, dict):
            items = [body]
        elif isinstance(doc, list):
            if len(doc) > max_batch:
                raise BodyError(413, f"batch of {len(doc)} events > limit of {max_batch}")
            items = [json.dumps(item, separators=(",", ":")).encode() for item in doc]
        else:
            raise BodyError(400, f"expected an event object or an array, got {type(doc).__name__}")
    else:
        raise BodyError(
            415, f"unsupported content type {media[:80]!r}; use {JSON_TYPE} or application/x-ndjson"
        )
    if not items:
        raise BodyError(400, "no events in the body")
    if len(items) > max_batch:
        raise BodyError(413, f"batch of {len(items)} events > limit of {max_batch}")
    return items


def validate_items(
    items: list[bytes],
    tenant: str,
    *,
    max_event_bytes: int,
    surrogates: SurrogatePolicy = "refuse",
) -> Parsed:
    """Validate each item as the validator would, then check it belongs to ``tenant``."""
    parsed = Parsed()
    for index, raw in enumerate(items):
        result = decode_event(raw, Coordinates(), max_bytes=max_event_bytes, surrogates=surrogates)
        if isinstance(result, DeadLetter):
            parsed.rejected.append(
                ItemError(index=index, id=result.event_id, reason=result.reason, error=result.error)
            )
        elif result.tenant != tenant:
            parsed.rejected.append(
                ItemError(
                    index=index,
                    id=result.id,
                    reason=GatewayReason.TENANT_MISMATCH,
                    error="the event's tenant is not the API key's tenant",
                )
            )
        else:
            parsed.events.append((index, result, raw))
    return parsed
