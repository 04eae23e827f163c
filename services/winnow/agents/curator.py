"""curator: scored -> store, then curated / rejected topics. Also records the DLQ in the store.

Offsets advance only after the store transaction commits: the batch is acknowledged when the
agent asks for the next one, and a store outage is retried here, with back-off, until it passes.
An error of one example (a filter that raises, a row the database refuses) is not an outage: that
example is dead-lettered (``processing_error``) and the rest of the batch goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final, TypeVar

import structlog
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from winnow.agents.batches import (
    Stopwatch,
    example_dead_letter,
    id_keyed,
    parse_examples,
    run_batches,
    send_all,
)
from winnow.agents.config import filter_config
from winnow.agents.curator_shared import curate_and_write_shared
from winnow.agents.runtime import WinnowApp, build_app
from winnow.backoff import Backoff
from winnow.dedup.index import NearDuplicateIndex
from winnow.errors import ConfigurationError
from winnow.events import DeadLetter
from winnow.example import Example
from winnow.export.retrain import RetrainTrigger
from winnow.kafka.binding import binary_headers, examples_as_cloudevents
from winnow.metrics import (
    CURATED,
    DEAD_LETTERS,
    DEDUP_CANDIDATES_CAPPED,
    REJECTED,
    STORE_ERRORS,
    STORE_WRITE_SECONDS,
)
from winnow.reasons import DeadLetterReason
from winnow.settings import Settings
from winnow.stages.curate import curate_isolating
from winnow.stages.decode import Coordinates, dead_letter
from winnow.stages.filters.base import ExampleFilter
from winnow.stages.filters.defaults import default_filters
from winnow.stages.isolate import run_isolating
from winnow.store import ExampleStore
from winnow.store.deadletters import purge_dead_letters
from winnow.store.dedup_shared import SharedDedup
from winnow.store.store import WriteOutcome
from winnow.topics import TopicLayout
from winnow.tracing import BatchTrace

SERVICE: Final = "curator"
log = structlog.get_logger(SERVICE)
T = TypeVar("T")


# The store itself failing (unreachable, restarting, schema not migrated yet): retried, as no
# record causes it. DataError and IntegrityError depend on the rows written: they are a record's.
_STORE_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.InternalError,
    sa_exc.ProgrammingError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    sa_exc.PendingRollbackError,
    OSError,
)


def is_store_error(exc: BaseException) -> bool:
    """True when ``exc`` is the store failing (retry the batch), not a record or a bug."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _STORE_ERRORS)


async def with_store_retry(
    app: WinnowApp, operation: str, fn: Callable[[], T], max_backoff_s: float
) -> T:
    """Run a store call in a thread until it succeeds, marking the service unready meanwhile.

    Only store errors (:func:`is_store_error`) are retried; any other exception propagates.
    """
    backoff = Backoff(max_s=max_backoff_s)
    while True:
        watch = Stopwatch()
        try:
            result = await asyncio.to_thread(fn)
        except Exception as exc:
            if not is_store_error(exc):
                raise
            STORE_ERRORS.labels(operation).inc()
            app.set_ready("store", False)
            # The driver's message (exc.orig), not SQLAlchemy's, which would echo row values.
            detail = str(getattr(exc, "orig", None) or type(exc).__name__)[:300]
            log.warning(
                "store_unavailable",
                operation=operation,
                error=type(exc).__name__,
                detail=detail,
                # The ceiling shows the doubling under the jitter (the draw itself is random).
                retry_ceiling_s=round(backoff.ceiling_s, 3),
                retry_in_s=round(delay := backoff.next(), 3),
            )
            await asyncio.sleep(delay)
            continue
        STORE_WRITE_SECONDS.labels(operation).observe(watch.elapsed)
        app.set_ready("store", True)
        return result


def _merge_outcomes(parts: list[WriteOutcome]) -> WriteOutcome:
    return WriteOutcome(
        accepted=[e for part in parts for e in part.accepted],
        rejected=[e for part in parts for e in part.rejected],
    )


def write_isolating(
    store: ExampleStore, decided: list[Example], signatures: dict[str, bytes]
) -> tuple[WriteOutcome, list[tuple[Example, Exception]]]:
    """``store.write_decisions``; if the batch's rows are refused, write each example alone.

    In order, so the first copy of a content hash still owns it. Examples whose row is refused
    on its own come back apart; store errors propagate (the caller retries the batch).
    """

    def write(examples: Sequence[Example]) -> WriteOutcome:
        # Whole batch: every signature (all are of decided examples); one example: its own.
        sigs = {e.id: signatures[e.id] for e in examples if e.id in signatures}
        return store.write_decisions(examples, sigs)

    def refused(exc: Exception) -> None:
        log.warning("batch_write_refused", error=type(exc).__name__, examples=len(decided))

    return run_isolating(
        decided, write, _merge_outcomes, transient=is_store_error, on_batch_failure=refused
    )


def record_isolating(store: ExampleStore, letters: list[DeadLetter]) -> None:
    """``store.record_dead_letters``; a letter whose row is refused alone is logged and skipped.

    It stays in the DLQ topic, the only copy: nowhere further to send it.
    """
    _, unrecordable = run_isolating(
        letters, store.record_dead_letters, lambda _: None, transient=is_store_error
    )
    for letter, exc in unrecordable:
        log.error(
            "dead_letter_unrecordable",
            dead_letter_id=letter.id,
            topic=letter.topic,
            partition=letter.partition,
            offset=letter.offset,
            error=type(exc).__name__,
        )


@dataclass
class Curator:
    """What the curator's agents and timers share: the store, filters and duplicate index."""

    app: WinnowApp
    settings: Settings
    store: ExampleStore
    filters: list[ExampleFilter]
    index: NearDuplicateIndex
    curated: Any
    rejected: Any
    dlq: Any
    index_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Batches and index rebuilds never overlap: a rebuild replaces the index wholesale."""
    index_stale: bool = True
    """Set at start and by every rebalance; the next batch rebuilds before it is curated. Not in
    the rebalance callback itself: faust waits for it, and a store outage would stall the group."""
    capped_seen: int = 0
    """``index.capped_checks`` already counted in the metric."""
    shared: SharedDedup | None = None
    """The shared duplicate index (``WINNOW_DEDUP_SHARED``): replicas of one tenant."""

    async def retry(self, operation: str, fn: Callable[[], T]) -> T:
        """``fn`` in a thread, retried through store outages (:func:`with_store_retry`)."""
        return await with_store_retry(self.app, operation, fn, self.settings.store_retry_max_s)


def _raw_topic(app: WinnowApp, name: str, *, consume: bool = False) -> Any:
    if consume:
        return app.topic(
            name, value_type=bytes, value_serializer="raw", key_type=bytes, key_serializer="raw"
        )
    return app.topic(name, key_serializer="raw", value_serializer="raw")


def build(settings: Settings) -> WinnowApp:
    """The curator's faust app."""
    app = build_app(SERVICE, settings)
    app.set_ready("store", False)
    layout = TopicLayout.from_settings(settings)
    if settings.dedup_shared == "on" and not settings.database_url.startswith("postgresql"):
        raise ConfigurationError("WINNOW_DEDUP_SHARED=on needs a PostgreSQL WINNOW_DATABASE_URL")
    curator = Curator(
        app=app,
        settings=settings,
        store=ExampleStore(
            settings.database_url,
            connect_timeout_s=settings.store_connect_timeout_s,
            statement_timeout_s=settings.store_statement_timeout_s,
        ),
        filters=default_filters(filter_config(settings)),
        index=NearDuplicateIndex(settings.dedup_near_threshold),
        curated=_raw_topic(app, layout.curated),
        rejected=_raw_topic(app, layout.rejected),
        dlq=_raw_topic(app, layout.dlq),
    )
    if settings.dedup_shared_on(settings.database_url):
        curator.shared = SharedDedup(curator.store.engine)
    _wire_store_ping(curator)
    _wire_retrain(curator, _raw_topic(app, layout.retrain))
    _wire_dlq_retention(curator)
    _wire_rebalance(curator)
    _wire_curate(curator, _raw_topic(app, layout.scored, consume=True))
    _wire_dead_letters(curator, _raw_topic(app, layout.dlq, consume=True))
    return app


def _wire_store_ping(curator: Curator) -> None:
    # A timer, not once at start: /readyz must show an outage even while no batch is written.
    @curator.app.timer(interval=curator.settings.store_ping_interval_s)  # type: ignore[untyped-decorator]
    async def _check_store() -> None:
        await curator.retry("ping", curator.store.ping)


def _wire_retrain(curator: Curator, retrain: Any) -> None:
    trigger = RetrainTrigger(curator.store, curator.settings)
    interval = curator.settings.retrain_check_interval_s

    # On the group leader only: one replica decides, so each snapshot is announced once.
    @curator.app.timer(interval=interval, on_leader=True)  # type: ignore[untyped-decorator]
    async def check_retrain() -> None:
        try:
            events = await asyncio.to_thread(trigger.check)
        except Exception:
            STORE_ERRORS.labels("retrain_check").inc()
            log.exception("retrain_check_failed")
            return
        await send_all(
            retrain,
            [
                (
                    e.domain.encode(),
                    e.model_dump_json().encode(),
                    binary_headers(
                        event_type=e.type,
                        event_id=e.id,
                        service=SERVICE,
                        time=e.created_at,
                        subject=e.domain,
                        extensions={"tenant": e.tenant},
                    ),
                )
                for e in events
            ],
            service=SERVICE,
        )
        for e in events:
            log.info("retrain_triggered", tenant=e.tenant, domain=e.domain, snapshot=e.snapshot_id)


def _wire_dlq_retention(curator: Curator) -> None:
    # Dead letters are kept WINNOW_DLQ_RETENTION_DAYS, then deleted (one replica does it).
    @curator.app.timer(interval=3600.0, on_leader=True)  # type: ignore[untyped-decorator]
    async def expire_dead_letters() -> None:
        days = curator.settings.dlq_retention_days
        before = datetime.now(UTC) - timedelta(days=days)
        try:
            n = await asyncio.to_thread(purge_dead_letters, curator.store.engine, before)
        except Exception:
            STORE_ERRORS.labels("dlq_purge").inc()
            log.exception("dlq_purge_failed")
            return
        if n:
            log.info("dead_letters_expired", count=n)


def _wire_rebalance(curator: Curator) -> None:
    @curator.app.on_rebalance_complete.connect
    async def _on_rebalance(sender: Any, /, *_: Any, signal: Any, **__: Any) -> None:
        # Another replica may have stored examples for the partitions this one now owns (the
        # shared index needs no rebuild: each batch catches up on every replica's rows).
        curator.index_stale = curator.shared is None


def _wire_curate(curator: Curator, scored: Any) -> None:
    @curator.app.agent(scored)
    async def curate(stream: Any) -> None:
        await run_batches(curator.app, stream, curator.settings, partial(curate_events, curator))


def _wire_dead_letters(curator: Curator, dlq_in: Any) -> None:
    @curator.app.agent(dlq_in)
    async def record_dead_letters(stream: Any) -> None:
        await run_batches(
            curator.app,
            stream,
            curator.settings,
            partial(record_dead_letter_events, curator),
            timed=False,
        )


async def rebuild_index_if_stale(curator: Curator) -> None:
    """Rebuild the duplicate index from the store when a start or rebalance made it stale."""
    if not curator.index_stale:
        return
    curator.index_stale = False
    index, store = curator.index, curator.store
    n = await curator.retry(
        "rebuild_dedup_index", lambda: index.rebuild(store.iter_dedup_signatures())
    )
    log.info("dedup_index_rebuilt", examples=n, bytes=index.nbytes())


def poison_record(example: Example, exc: Exception, step: str) -> DeadLetter:
    """The dead letter of an example that failed alone in ``step``; counted and logged."""
    letter = example_dead_letter(example, f"{type(exc).__name__}: {exc}", stage=SERVICE)
    DEAD_LETTERS.labels(SERVICE, letter.reason.value).inc()
    log.warning(
        "poison_example",
        step=step,
        error=type(exc).__name__,
        example_id=example.id,
        event_id=example.source.event_id,
    )
    return letter


async def curate_events(curator: Curator, events: list[Any], spans: BatchTrace) -> None:
    """One batch of scored examples: decide, store, then produce to curated/rejected/DLQ."""
    parsed, letters = parse_examples(events, SERVICE, spans)
    # The lock spans decide + write: a rebuild in between would miss this batch.
    async with curator.index_lock:
        if curator.shared is not None:
            outcome = await decide_and_write_shared(curator, curator.shared, parsed, letters, spans)
        else:
            await rebuild_index_if_stale(curator)
            outcome = await decide_and_write(curator, parsed, letters, spans)
    count_outcome(outcome)
    curated = examples_as_cloudevents(outcome.accepted, "curated", SERVICE, spans.headers_for)
    await send_all(curator.curated, curated, service=SERVICE)
    rejected = examples_as_cloudevents(outcome.rejected, "rejected", SERVICE, spans.headers_for)
    await send_all(curator.rejected, rejected, service=SERVICE)
    await send_all(curator.dlq, id_keyed(letters), service=SERVICE)


async def decide_and_write(
    curator: Curator, parsed: list[Example], letters: list[DeadLetter], spans: BatchTrace
) -> WriteOutcome:
    """Curate and store a batch (under the index lock); poison examples go to ``letters``.

    The store write is a span of the batch (``spans``)."""
    index, store = curator.index, curator.store
    # In a thread (language detection and MinHash cost milliseconds per example) and retried
    # like a write: near-duplicate checks read candidates from the store.
    decided, signatures, failed = await curator.retry(
        "curate_batch",
        partial(
            curate_isolating,
            parsed,
            curator.filters,
            index,
            store.dedup_texts,
            reraise=is_store_error,
        ),
    )
    letters.extend(poison_record(example, error, "curate") for example, error in failed)
    attributes = store_span(store, "write_decisions", decided)
    with spans.span("store write", kind=SpanKind.CLIENT, attributes=attributes):
        outcome, refused = await curator.retry(
            "write_decisions", partial(write_isolating, store, decided, signatures)
        )
    letters.extend(poison_record(example, error, "write") for example, error in refused)
    index.forget_recent()
    DEDUP_CANDIDATES_CAPPED.inc(index.capped_checks - curator.capped_seen)
    curator.capped_seen = index.capped_checks
    if refused:
        # They were indexed as accepted but are not stored: rebuild from the store.
        curator.index_stale = True
    return outcome


async def decide_and_write_shared(
    curator: Curator,
    shared: SharedDedup,
    parsed: list[Example],
    letters: list[DeadLetter],
    spans: BatchTrace,
) -> WriteOutcome:
    """:func:`decide_and_write` with the shared index: locks, catch-up, decide, write (one
    span: the locked section holds the decisions and the write together)."""
    index, store = curator.index, curator.store
    rebuilding = shared.stale
    attributes = store_span(store, "curate_and_write_shared", parsed)
    with spans.span("store write", kind=SpanKind.CLIENT, attributes=attributes):
        batch = await curator.retry(
            "curate_shared",
            partial(
                curate_and_write_shared,
                shared,
                index,
                store,
                curator.filters,
                parsed,
                write=partial(write_isolating, store),
                reraise=is_store_error,
            ),
        )
    if rebuilding:
        log.info("dedup_index_rebuilt", examples=len(index), bytes=index.nbytes(), shared=True)
    letters.extend(poison_record(example, error, "curate") for example, error in batch.failed)
    letters.extend(poison_record(example, error, "write") for example, error in batch.refused)
    DEDUP_CANDIDATES_CAPPED.inc(index.capped_checks - curator.capped_seen)
    curator.capped_seen = index.capped_checks
    return batch.outcome


def count_outcome(outcome: WriteOutcome) -> None:
    """Metrics for a stored batch, and a log line (ids and reasons, no text) per rejection."""
    for ex in outcome.accepted:
        CURATED.labels(ex.kind.value, ex.domain or "none").inc()
    for ex in outcome.rejected:
        for reason in ex.decision.reasons if ex.decision else []:
            REJECTED.labels(reason.value).inc()
        log.info(
            "rejected",
            example_id=ex.id,
            event_id=ex.source.event_id,
            reasons=[r.value for r in ex.decision.reasons] if ex.decision else [],
        )


def read_dead_letters(events: list[Any]) -> list[DeadLetter]:
    """The DLQ batch's dead letters; a record that is not one is kept as a new dead letter."""
    letters: list[DeadLetter] = []
    for event in events:
        try:
            letters.append(DeadLetter.model_validate_json(event.value))
        except ValidationError:
            # Not ours (someone else wrote to the DLQ): keep it as a dead letter.
            msg = event.message
            letters.append(
                dead_letter(
                    bytes(event.value or b""),
                    Coordinates(msg.topic, msg.partition, msg.offset),
                    DeadLetterReason.PROCESSING_ERROR,
                    "unreadable DLQ record",
                    stage=SERVICE,
                )
            )
    return letters


async def record_dead_letter_events(curator: Curator, events: list[Any], spans: BatchTrace) -> None:
    """One DLQ batch: record every dead letter in the store (retried through outages)."""
    letters = read_dead_letters(events)
    attributes = store_span(curator.store, "record_dead_letters", letters)
    with spans.span("store write", kind=SpanKind.CLIENT, attributes=attributes):
        await curator.retry(
            "record_dead_letters", partial(record_isolating, curator.store, letters)
        )


def store_span(store: ExampleStore, operation: str, rows: Sequence[object]) -> dict[str, Any]:
    """Attributes of a store-write span (the OpenTelemetry database conventions)."""
    return {
        "db.system.name": store.engine.dialect.name,
        "db.operation.name": operation,
        "db.operation.batch.size": len(rows),
    }
