"""scorer: candidates -> scored. Heuristic signals always; the ONNX quality models when built."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

import structlog

from winnow.agents.runtime import (
    Stopwatch,
    WinnowApp,
    build_app,
    example_dead_letter,
    parse_examples,
    send_all,
)
from winnow.dedup.index import dedup_partition_key
from winnow.example import Example
from winnow.metrics import BATCH_SIZE, DEAD_LETTERS, PROCESSING_SECONDS
from winnow.settings import Settings
from winnow.stages.heuristics import score_heuristics
from winnow.topics import TopicLayout

SERVICE: Final = "scorer"
log = structlog.get_logger(SERVICE)

BatchScorer = Callable[[list[Example]], list[Example]]


def heuristic_batch(examples: list[Example]) -> list[Example]:
    """Score a batch with the heuristic signals only."""
    return [score_heuristics(e) for e in examples]


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

    def score(examples: list[Example]) -> list[Example]:
        return quality.score_batch(heuristic_batch(examples))

    return score


def score_safely(
    score_batch: BatchScorer, examples: list[Example]
) -> tuple[list[Example], list[tuple[Example, str]]]:
    """Score a batch; if the batch fails, score one by one and return the ones that fail alone."""
    if not examples:
        return [], []
    try:
        return score_batch(examples), []
    except Exception:
        log.exception("batch_scoring_failed", size=len(examples))
    scored: list[Example] = []
    poison: list[tuple[Example, str]] = []
    for example in examples:
        try:
            scored.extend(score_batch([example]))
        except Exception as exc:
            poison.append((example, f"{type(exc).__name__}: {exc}"[:500]))
    return scored, poison


def build(settings: Settings, scorer: BatchScorer | None = None) -> WinnowApp:
    """The scorer's faust app; ``scorer`` overrides model loading (tests, benchmarks)."""
    app = build_app(SERVICE, settings)
    layout = TopicLayout.from_settings(settings)
    candidates = app.topic(
        layout.candidates,
        value_type=bytes,
        value_serializer="raw",
        key_type=bytes,
        key_serializer="raw",
    )
    scored = app.topic(layout.scored, key_serializer="raw", value_serializer="raw")
    dlq = app.topic(layout.dlq, key_serializer="raw", value_serializer="raw")
    score_batch = scorer or load_batch_scorer(settings)

    @app.agent(candidates)
    async def score(stream: Any) -> None:
        async for events in stream.take_events(settings.batch_max, within=settings.batch_wait_s):
            async with app.batch():
                await score_events(events)

    async def score_events(events: list[Any]) -> None:
        watch = Stopwatch()
        bad: list[tuple[bytes, bytes]] = []
        examples, letters = parse_examples(events, SERVICE)
        bad += [(d.id.encode(), d.model_dump_json().encode()) for d in letters]
        # Off the event loop: ONNX inference would starve faust's heartbeats.
        results, poison = await asyncio.to_thread(score_safely, score_batch, examples)
        for example, error in poison:
            letter = example_dead_letter(example, error, stage=SERVICE)
            DEAD_LETTERS.labels(SERVICE, letter.reason.value).inc()
            bad.append((letter.id.encode(), letter.model_dump_json().encode()))
        await send_all(
            scored,
            [(dedup_partition_key(e).encode(), e.model_dump_json().encode()) for e in results],
            service=SERVICE,
        )
        await send_all(dlq, bad, service=SERVICE)
        BATCH_SIZE.labels(SERVICE).observe(len(events))
        PROCESSING_SECONDS.labels(SERVICE).observe(watch.elapsed)

    return app
