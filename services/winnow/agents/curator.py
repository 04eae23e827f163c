"""curator: scored -> store, then curated / rejected topics. Also records the DLQ in the store.

Offsets advance only after the store transaction commits: the batch is acknowledged when the
agent asks for the next one, and a store outage is retried here, with back-off, until it passes.
An error of one example (a filter that raises, a row the database refuses) is not an outage: that
example is dead-lettered (``processing_error``) and the rest of the batch goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, Final, TypeVar

import structlog
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from winnow.agents.runtime import (
    Stopwatch,
    WinnowApp,
    build_app,
    example_dead_letter,
    parse_examples,
    send_all,
)
from winnow.dedup.index import NearDuplicateIndex
from winnow.events import DeadLetter
from winnow.example import Example
from winnow.export.retrain import RetrainTrigger
from winnow.metrics import (
    BATCH_SIZE,
    CURATED,
    DEAD_LETTERS,
    DEDUP_CANDIDATES_CAPPED,
    PROCESSING_SECONDS,
    REJECTED,
    STORE_ERRORS,
    STORE_WRITE_SECONDS,
)
from winnow.reasons import DeadLetterReason
from winnow.settings import Settings
from winnow.stages.curate import curate_isolating
from winnow.stages.decode import Coordinates, dead_letter
from winnow.stages.filters.base import default_filters
from winnow.store import ExampleStore
from winnow.store.store import WriteOutcome
from winnow.topics import TopicLayout

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
    delay = 0.2
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
                retry_in_s=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff_s)
            continue
        STORE_WRITE_SECONDS.labels(operation).observe(watch.elapsed)
        app.set_ready("store", True)
        return result


def write_isolating(
    store: ExampleStore, decided: list[Example], signatures: dict[str, bytes]
) -> tuple[WriteOutcome, list[tuple[Example, Exception]]]:
    """``store.write_decisions``; if the batch's rows are refused, write each example alone.

    In order, so the first copy of a content hash still owns it. Examples whose row is refused
    on its own come back apart; store errors propagate (the caller retries the batch).
    """
    try:
        return store.write_decisions(decided, signatures), []
    except Exception as exc:
        if is_store_error(exc):
            raise
        log.warning("batch_write_refused", error=type(exc).__name__, examples=len(decided))
    accepted: list[Example] = []
    rejected: list[Example] = []
    failed: list[tuple[Example, Exception]] = []
    for example in decided:
        sig = {example.id: signatures[example.id]} if example.id in signatures else {}
        try:
            outcome = store.write_decisions([example], sig)
        except Exception as exc:
            if is_store_error(exc):
                raise
            failed.append((example, exc))
            continue
        accepted += outcome.accepted
        rejected += outcome.rejected
    return WriteOutcome(accepted=accepted, rejected=rejected), failed


def record_isolating(store: ExampleStore, letters: list[DeadLetter]) -> None:
    """``store.record_dead_letters``; a letter whose row is refused alone is logged and skipped.

    It stays in the DLQ topic, the only copy: nowhere further to send it.
    """
    try:
        store.record_dead_letters(letters)
        return
    except Exception as exc:
        if is_store_error(exc):
            raise
    for letter in letters:
        try:
            store.record_dead_letters([letter])
        except Exception as exc:
            if is_store_error(exc):
                raise
            log.error(
                "dead_letter_unrecordable",
                dead_letter_id=letter.id,
                topic=letter.topic,
                partition=letter.partition,
                offset=letter.offset,
                error=type(exc).__name__,
            )


def build(settings: Settings) -> WinnowApp:
    """The curator's faust app."""
    app = build_app(SERVICE, settings)
    app.set_ready("store", False)
    layout = TopicLayout.from_settings(settings)
    scored = app.topic(
        layout.scored,
        value_type=bytes,
        value_serializer="raw",
        key_type=bytes,
        key_serializer="raw",
    )
    dlq_in = app.topic(
        layout.dlq, value_type=bytes, value_serializer="raw", key_type=bytes, key_serializer="raw"
    )
    curated = app.topic(layout.curated, key_serializer="raw", value_serializer="raw")
    rejected = app.topic(layout.rejected, key_serializer="raw", value_serializer="raw")
    dlq_out = app.topic(layout.dlq, key_serializer="raw", value_serializer="raw")
    retrain = app.topic(layout.retrain, key_serializer="raw", value_serializer="raw")
    filters = default_filters(settings)
    store = ExampleStore(settings.database_url)
    backoff = settings.store_retry_max_s
    index = NearDuplicateIndex(settings.dedup_near_threshold)
    # Batches and index rebuilds never overlap: a rebuild replaces the index wholesale.
    index_lock = asyncio.Lock()
    # Set at start and by every rebalance; the next batch rebuilds before it is curated. Not in
    # the rebalance callback itself: faust waits for it, and a store outage would stall the group.
    stale_index = [True]
    capped_seen = [0]  # index.capped_checks already counted in the metric

    async def rebuild_index_if_stale() -> None:
        if not stale_index[0]:
            return
        stale_index[0] = False
        n = await with_store_retry(
            app,
            "rebuild_dedup_index",
            lambda: index.rebuild(store.iter_dedup_signatures()),
            backoff,
        )
        log.info("dedup_index_rebuilt", examples=n, bytes=index.nbytes())

    # A timer, not once at start: /readyz must show an outage even while no batch is written.
    @app.timer(interval=settings.store_ping_interval_s)  # type: ignore[untyped-decorator]
    async def _check_store() -> None:
        await with_store_retry(app, "ping", store.ping, backoff)

    trigger = RetrainTrigger(store, settings)

    # On the group leader only: one replica decides, so each snapshot is announced once.
    @app.timer(interval=settings.retrain_check_interval_s, on_leader=True)  # type: ignore[untyped-decorator]
    async def check_retrain() -> None:
        try:
            events = await asyncio.to_thread(trigger.check)
        except Exception:
            STORE_ERRORS.labels("retrain_check").inc()
            log.exception("retrain_check_failed")
            return
        await send_all(
            retrain,
            [(e.domain.encode(), e.model_dump_json().encode()) for e in events],
            service=SERVICE,
        )
        for e in events:
            log.info("retrain_triggered", tenant=e.tenant, domain=e.domain, snapshot=e.snapshot_id)

    @app.on_rebalance_complete.connect
    async def _on_rebalance(sender: Any, /, *_: Any, signal: Any, **__: Any) -> None:
        # Another replica may have stored examples for the partitions this one now owns.
        stale_index[0] = True

    @app.agent(scored)
    async def curate(stream: Any) -> None:
        async for events in stream.take_events(settings.batch_max, within=settings.batch_wait_s):
            async with app.batch():
                await curate_events(events)

    async def curate_events(events: list[Any]) -> None:
        watch = Stopwatch()
        bad: list[tuple[bytes, bytes]] = []

        def poison(example: Example, exc: Exception, step: str) -> None:
            letter = example_dead_letter(example, f"{type(exc).__name__}: {exc}", stage=SERVICE)
            DEAD_LETTERS.labels(SERVICE, letter.reason.value).inc()
            log.warning(
                "poison_example",
                step=step,
                error=type(exc).__name__,
                example_id=example.id,
                event_id=example.source.event_id,
            )
            bad.append((letter.id.encode(), letter.model_dump_json().encode()))

        parsed, letters = parse_examples(events, SERVICE)
        bad += [(d.id.encode(), d.model_dump_json().encode()) for d in letters]
        # The lock spans decide + write: a rebuild in between would miss this batch.
        async with index_lock:
            await rebuild_index_if_stale()
            # In a thread (language detection and MinHash cost milliseconds per example) and
            # retried like a write: near-duplicate checks read candidates from the store.
            decided, signatures, failed = await with_store_retry(
                app,
                "curate_batch",
                partial(
                    curate_isolating,
                    parsed,
                    filters,
                    index,
                    store.dedup_texts,
                    reraise=is_store_error,
                ),
                backoff,
            )
            for example, error in failed:
                poison(example, error, "curate")
            outcome, refused = await with_store_retry(
                app,
                "write_decisions",
                partial(write_isolating, store, decided, signatures),
                backoff,
            )
            for example, error in refused:
                poison(example, error, "write")
            index.forget_recent()
            DEDUP_CANDIDATES_CAPPED.inc(index.capped_checks - capped_seen[0])
            capped_seen[0] = index.capped_checks
            if refused:
                # They were indexed as accepted but are not stored: rebuild from the store.
                stale_index[0] = True
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
        await send_all(
            curated,
            [(e.id.encode(), e.model_dump_json().encode()) for e in outcome.accepted],
            service=SERVICE,
        )
        await send_all(
            rejected,
            [(e.id.encode(), e.model_dump_json().encode()) for e in outcome.rejected],
            service=SERVICE,
        )
        await send_all(dlq_out, bad, service=SERVICE)
        BATCH_SIZE.labels(SERVICE).observe(len(events))
        PROCESSING_SECONDS.labels(SERVICE).observe(watch.elapsed)

    @app.agent(dlq_in)
    async def record_dead_letters(stream: Any) -> None:
        async for events in stream.take_events(settings.batch_max, within=settings.batch_wait_s):
            async with app.batch():
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
                await with_store_retry(
                    app,
                    "record_dead_letters",
                    partial(record_isolating, store, letters),
                    backoff,
                )

    return app
