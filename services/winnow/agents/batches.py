"""What a service's agent does with each batch: run it with its spans, produce with retries,
parse ``Example`` records, and dead-letter the examples a stage raised on.

A service's agent is :func:`run_batches` over a handler: the handler runs its stage on the whole
batch (isolating poison records with ``winnow.stages.isolate.run_isolating``), produces the
results with :func:`send_all`, and returns; only then does the loop take the next batch, which
acknowledges this one, and faust commits it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, Protocol

import structlog
from pydantic import ValidationError

from winnow.backoff import Backoff
from winnow.events import DeadLetter
from winnow.example import Example
from winnow.metrics import BATCH_SIZE, DEAD_LETTERS, EVENTS_IN, PROCESSING_SECONDS
from winnow.reasons import DeadLetterReason
from winnow.settings import Settings
from winnow.stages.decode import Coordinates, dead_letter
from winnow.tracing import OFF, BatchTrace

if TYPE_CHECKING:
    from winnow.agents.runtime import WinnowApp

log = structlog.get_logger(__name__)


def example_dead_letter(
    example: Example, error: str, *, stage: Literal["scorer", "curator"]
) -> DeadLetter:
    """A ``processing_error`` dead letter for an example a stage raised on (a poison example).

    Keyed by (stage, tenant, source event, position), not by topic offset or bytes: a redelivered
    event is re-validated and re-scored (new ``created_at``, new offsets) and must land on the
    same row.
    """
    source = example.source
    letter = dead_letter(
        example.model_dump_json().encode(),
        Coordinates(source.topic, source.partition, source.offset),
        DeadLetterReason.PROCESSING_ERROR,
        error,
        stage=stage,
        event_id=source.event_id,
        tenant=example.tenant,
    )
    key = f"{stage}|{example.tenant}|{source.event_id}|{source.index}".encode()
    return letter.model_copy(update={"id": hashlib.sha256(key).hexdigest()})


Record = tuple[bytes, bytes] | tuple[bytes, bytes, list[tuple[str, bytes]]]
"""(key, value) or (key, value, headers) for :func:`send_all`."""

Handler = Callable[[list[Any], BatchTrace], Awaitable[None]]
"""A service's batch handler: the events and the batch's spans (for the headers it produces)."""


async def send_all(
    topic: Any, records: Iterable[Record], *, service: str, max_backoff_s: float = 30.0
) -> None:
    """Produce every (key, value[, headers]) and wait until the broker has them all.

    Retries with back-off instead of raising: a raise would let faust ack the batch unprocessed.
    """
    pending = list(records)
    backoff = Backoff(max_s=max_backoff_s)
    while pending:
        try:
            futures = [
                await topic.send(key=r[0], value=r[1], headers=r[2] if len(r) > 2 else None)
                for r in pending
            ]
            await asyncio.gather(*futures)
            return
        except Exception as exc:
            log.warning(
                "produce_failed",
                service=service,
                topic=topic.get_topic_name(),
                error=type(exc).__name__,
                retry_in_s=round(delay := backoff.next(), 3),
            )
            await asyncio.sleep(delay)


class _Keyed(Protocol):
    @property
    def id(self) -> str: ...

    def model_dump_json(self) -> str: ...


def id_keyed(records: Iterable[_Keyed]) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs for :func:`send_all`: each record's id and its JSON."""
    return [(r.id.encode(), r.model_dump_json().encode()) for r in records]


def traced(
    examples: Iterable[Example], key: Callable[[Example], str], spans: BatchTrace
) -> list[Record]:
    """(key, value, headers) of examples, each carrying its record's trace context."""
    return [(key(e).encode(), e.model_dump_json().encode(), spans.headers_for(e)) for e in examples]


async def run_batches(
    app: WinnowApp,
    stream: Any,
    settings: Settings,
    handle: Handler,
    *,
    timed: bool = True,
) -> None:
    """An agent's loop: take up to ``WINNOW_BATCH_MAX`` events and ``handle`` them as one batch.

    ``handle`` must return only once the batch is written (produced, or stored): asking for the
    next batch acknowledges this one, and faust commits what is acknowledged. Each batch goes
    through :func:`process_batch`.
    """
    async for events in stream.take_events(settings.batch_max, within=settings.batch_wait_s):
        await process_batch(app, events, handle, timed=timed)


async def process_batch(
    app: WinnowApp, events: list[Any], handle: Handler, *, timed: bool = True
) -> None:
    """``handle`` one batch inside :meth:`WinnowApp.batch` (a batch it does not finish fences
    commits), with the batch's spans (:class:`winnow.tracing.BatchTrace`, nothing while tracing
    is off). ``timed`` records the batch's size and processing time under the service's name."""
    async with app.batch():
        watch = Stopwatch()
        spans = BatchTrace.start(app.service_name, events)
        try:
            await handle(events, spans)
        except BaseException as exc:
            spans.end(exc)
            raise
        spans.end()
        if timed:
            BATCH_SIZE.labels(app.service_name).observe(len(events))
            PROCESSING_SECONDS.labels(app.service_name).observe(watch.elapsed)


class Stopwatch:
    """Seconds since construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def parse_examples(
    events: Iterable[Any], service: Literal["scorer", "curator"], spans: BatchTrace = OFF
) -> tuple[list[Example], list[DeadLetter]]:
    """The ``Example`` records of a batch, and a ``processing_error`` dead letter for each record
    that is not one (the stage upstream wrote it, so a bad one is a bug, kept with its bytes).

    ``spans`` learns which record each example came from (for the trace headers downstream)."""
    examples: list[Example] = []
    letters: list[DeadLetter] = []
    positions: list[int] = []
    for position, event in enumerate(events):
        msg = event.message
        EVENTS_IN.labels(service, msg.topic).inc()
        try:
            examples.append(Example.model_validate_json(event.value))
            positions.append(position)
        except ValidationError as exc:
            letter = dead_letter(
                bytes(event.value or b""),
                Coordinates(msg.topic, msg.partition, msg.offset),
                DeadLetterReason.PROCESSING_ERROR,
                f"not an Example: {exc.error_count()} errors",
                stage=service,
            )
            DEAD_LETTERS.labels(service, letter.reason.value).inc()
            letters.append(letter)
    spans.bind(examples, positions)
    return examples, letters
