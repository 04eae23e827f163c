"""scorer: candidates -> scored. Heuristic signals always; the ONNX quality models when built.

A thin adapter over ``winnow.stages.score``: this module loads the models named by the settings
and moves records between topics.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Final

import structlog

from winnow.agents.batches import (
    Handler,
    Record,
    example_dead_letter,
    id_keyed,
    parse_examples,
    run_batches,
    send_all,
    traced,
)
from winnow.agents.runtime import WinnowApp, build_app
from winnow.dedup.index import dedup_partition_key
from winnow.metrics import DEAD_LETTERS
from winnow.settings import Settings
from winnow.stages.score import BatchScorer, heuristic_batch, score_isolating, with_quality_models
from winnow.topics import TopicLayout
from winnow.tracing import BatchTrace

SERVICE: Final = "scorer"
log = structlog.get_logger(SERVICE)


def load_batch_scorer(settings: Settings) -> BatchScorer:
    """The scoring function for this process: the quality models if built, else heuristics only."""
    try:
        from winnow.scoring import QualityScorer
        from winnow.scoring.exceptions import ModelsNotBuiltError
    except ImportError:
        log.warning("quality_models_unavailable", why="winnow.scoring not installed")
        return heuristic_batch
    try:
        quality = QualityScorer.from_settings(settings)
    except ModelsNotBuiltError as exc:
        log.warning("quality_models_unavailable", why=str(exc), fix="run `winnow models build`")
        return heuristic_batch
    return with_quality_models(quality)


def build(settings: Settings, scorer: BatchScorer | None = None) -> WinnowApp:
    """The scorer's faust app; ``scorer`` overrides model loading (tests, benchmarks)."""
    app = build_app(SERVICE, settings)
    layout = TopicLayout.from_settings(settings)
    # Keyed by tenant unless curator replicas share the duplicate index (then by example id).
    shared = settings.dedup_shared_on(settings.database_url)
    candidates = app.topic(
        layout.candidates,
        value_type=bytes,
        value_serializer="raw",
        key_type=bytes,
        key_serializer="raw",
    )
    scored = app.topic(layout.scored, key_serializer="raw", value_serializer="raw")
    dlq = app.topic(layout.dlq, key_serializer="raw", value_serializer="raw")
    score_events = handler(scorer or load_batch_scorer(settings), scored, dlq, shared=shared)

    @app.agent(candidates)
    async def score(stream: Any) -> None:
        await run_batches(app, stream, settings, score_events)

    return app


def handler(score_batch: BatchScorer, scored: Any, dlq: Any, *, shared: bool = False) -> Handler:
    """The scorer's batch handler: score, then produce to ``scored`` (and ``dlq``) topics;
    ``scored`` is keyed by tenant, or by example id when curators share the duplicate index."""

    async def score_events(events: list[Any], spans: BatchTrace) -> None:
        examples, letters = parse_examples(events, SERVICE, spans)
        # Off the event loop: ONNX inference would starve faust's heartbeats.
        results, poison = await asyncio.to_thread(score_isolating, score_batch, examples)
        dead: list[Record] = [*id_keyed(letters)]
        for example, error in poison:
            letter = example_dead_letter(example, error, stage=SERVICE)
            DEAD_LETTERS.labels(SERVICE, letter.reason.value).inc()
            dead.append(
                (letter.id.encode(), letter.model_dump_json().encode(), spans.headers_for(example))
            )
        key = partial(dedup_partition_key, shared=shared)
        await send_all(scored, traced(results, key, spans), service=SERVICE)
        await send_all(dlq, dead, service=SERVICE)

    return score_events
