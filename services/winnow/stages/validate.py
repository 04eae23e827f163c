"""The validator stage: raw source bytes -> redacted candidate examples, or one dead letter."""

from __future__ import annotations

from dataclasses import dataclass

from winnow.events import DeadLetter
from winnow.example import Example
from winnow.pii.example import OrderPolicy, PlaceholderStyle, redact_example
from winnow.reasons import DeadLetterReason
from winnow.stages.decode import Coordinates, SurrogatePolicy, dead_letter, decode_event
from winnow.stages.normalise import NormaliseOptions, event_to_examples


def validate_record(
    raw: bytes,
    coords: Coordinates,
    *,
    max_bytes: int,
    options: NormaliseOptions | None = None,
    subject_key: bytes | None = None,
    orders: OrderPolicy = "pseudonymise",
    surrogates: SurrogatePolicy = "refuse",
    placeholders: PlaceholderStyle = "numbered",
) -> list[Example] | DeadLetter:
    """Decode, validate, normalise and redact one source record; never raises on bad input.

    ``subject_key``: HMAC key for the examples' ``subjects`` (what ``winnow erase`` finds) and
    the order-number pseudonyms; ``orders``: what happens to order and ticket numbers;
    ``surrogates``: what a lone UTF-16 surrogate does (``decode_event``); ``placeholders``:
    ``numbered`` (``<NAME_1>``) or ``surrogate`` (keyed stand-in values, ``redact_example``).
    """
    event = decode_event(raw, coords, max_bytes=max_bytes, surrogates=surrogates)
    if isinstance(event, DeadLetter):
        return event
    try:
        # Redaction happens here, before an example leaves the validator: nothing downstream
        # (topics, store, exports, logs) ever sees the original values.
        examples = [
            redact_example(e, subject_key=subject_key, orders=orders, placeholders=placeholders)[0]
            for e in event_to_examples(event, coords, options)
        ]
    except Exception as exc:  # a bug in a normaliser must not stop the stream
        return dead_letter(
            raw,
            coords,
            DeadLetterReason.PROCESSING_ERROR,
            f"{type(exc).__name__}: {exc}",
            stage="validator",
            event_id=event.id,
            tenant=event.tenant,
        )
    if not examples:
        return dead_letter(
            raw,
            coords,
            DeadLetterReason.NO_EXAMPLE,
            "no answer to learn from in this event",
            stage="validator",
            event_id=event.id,
            tenant=event.tenant,
        )
    return examples


@dataclass(frozen=True, slots=True)
class ValidateConfig:
    """Every knob of ``validate_record`` but the record, built once from ``WINNOW_*`` settings
    (``winnow.agents.config.validate_config``) so the validator and ``winnow score`` redact alike:
    the same subject key, order-number policy, placeholder style and surrogate policy."""

    max_bytes: int
    options: NormaliseOptions | None = None
    subject_key: bytes | None = None
    orders: OrderPolicy = "pseudonymise"
    surrogates: SurrogatePolicy = "refuse"
    placeholders: PlaceholderStyle = "numbered"

    def __call__(self, raw: bytes, coords: Coordinates) -> list[Example] | DeadLetter:
        """``validate_record`` of ``raw`` with these settings."""
        return validate_record(
            raw,
            coords,
            max_bytes=self.max_bytes,
            options=self.options,
            subject_key=self.subject_key,
            orders=self.orders,
            surrogates=self.surrogates,
            placeholders=self.placeholders,
        )
