"""validator: source topics -> candidates (valid events) or the DLQ (everything else)."""

from __future__ import annotations

from typing import Any, Final

import structlog

from winnow.agents.batches import Handler, Record, run_batches, send_all
from winnow.agents.config import validate_config
from winnow.agents.runtime import WinnowApp, build_app
from winnow.events import DeadLetter
from winnow.kafka.binding import is_binary, structured_from_binary
from winnow.metrics import CANDIDATES_OUT, DEAD_LETTERS, EVENTS_IN, PII_REDACTED
from winnow.pii.sealing import DlqSealer
from winnow.reasons import DeadLetterReason
from winnow.settings import Settings
from winnow.stages.decode import Coordinates, dead_letter
from winnow.topics import TopicLayout
from winnow.tracing import BatchTrace

SERVICE: Final = "validator"
log = structlog.get_logger(SERVICE)


def _privacy(settings: Settings) -> tuple[DlqSealer, bytes | None]:
    """The dead-letter sealer and the subject-hash key, warning about what is unset.

    A dead letter holds the record as it arrived, the only unredacted copy: sealed with the DLQ
    key before it leaves, or redacted when there is none.
    """
    key = settings.dlq_key
    sealer = DlqSealer.from_text(key.get_secret_value() if key else None)
    if not sealer.encrypts:
        log.warning("dlq_key_unset", hint="dead letters keep a redacted copy; set WINNOW_DLQ_KEY")
    subject_key = settings.subject_key()
    if subject_key is None:
        log.warning("pii_subject_key_unset", hint="winnow erase cannot find people's rows")
    return sealer, subject_key


def build(settings: Settings) -> WinnowApp:
    """The validator's faust app."""
    app = build_app(SERVICE, settings)
    layout = TopicLayout.from_settings(settings)
    # Raw bytes in: a typed faust topic would crash the agent on undecodable input and skip it.
    sources = app.topic(
        *layout.sources,
        key_type=bytes,
        value_type=bytes,
        value_serializer="raw",
        key_serializer="raw",
    )
    candidates = app.topic(layout.candidates, key_serializer="raw", value_serializer="raw")
    dlq = app.topic(layout.dlq, key_serializer="raw", value_serializer="raw")
    validate_events = handler(settings, candidates, dlq)

    @app.agent(sources)
    async def validate(stream: Any) -> None:
        await run_batches(app, stream, settings, validate_events)

    return app


def handler(settings: Settings, candidates: Any, dlq: Any) -> Handler:
    """The validator's batch handler: validate each record, produce to ``candidates`` or ``dlq``."""
    sealer, subject_key = _privacy(settings)
    validate_one = validate_config(settings)  # `winnow score` builds the same one

    async def validate_events(events: list[Any], spans: BatchTrace) -> None:
        good: list[Record] = []
        bad: list[Record] = []
        for position, event in enumerate(events):
            msg = event.message
            EVENTS_IN.labels(SERVICE, msg.topic).inc()
            raw = event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
            if is_binary(msg.headers):  # CloudEvents binary mode: attributes in ce_* headers
                raw = structured_from_binary(msg.headers, raw)
            coords = Coordinates(msg.topic, msg.partition, msg.offset)
            try:
                outcome = validate_one(raw, coords)
                encoded: list[Record] = (
                    []
                    if isinstance(outcome, DeadLetter)
                    else [
                        (e.id.encode(), e.model_dump_json().encode(), spans.headers(position))
                        for e in outcome
                    ]
                )
            except Exception as exc:
                # validate_one turns every bad input into a dead letter; this is a bug
                # meeting odd input. The record is dead-lettered with the error, the rest go on.
                log.exception("poison_record", topic=msg.topic, offset=msg.offset)
                outcome = dead_letter(
                    raw,
                    coords,
                    DeadLetterReason.PROCESSING_ERROR,
                    f"{type(exc).__name__}: {exc}",
                    stage=SERVICE,
                )
            if isinstance(outcome, DeadLetter):
                DEAD_LETTERS.labels(SERVICE, outcome.reason.value).inc()
                log.info(
                    "dead_letter",
                    reason=outcome.reason.value,
                    event_id=outcome.event_id,
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                )
                sealed = sealer.seal(outcome, subject_key)
                bad.append(
                    (sealed.id.encode(), sealed.model_dump_json().encode(), spans.headers(position))
                )
                continue
            for example in outcome:
                CANDIDATES_OUT.labels(example.kind.value).inc()
                for pii_type, hits in example.redactions.items():
                    PII_REDACTED.labels(pii_type).inc(hits)
            good += encoded
        await send_all(candidates, good, service=SERVICE)
        await send_all(dlq, bad, service=SERVICE)

    return validate_events
