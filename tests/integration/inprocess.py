"""The three services' real batch handlers, run in this process on records read from the real
broker, producing through it to the next topic: a pipeline whose only missing part is faust's
fetch loop, so a test sees its spans or its outcomes in-process and cheaply."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from types import SimpleNamespace
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from winnow.agents import curator as curator_service
from winnow.agents import scorer as scorer_service
from winnow.agents import validator as validator_service
from winnow.agents.batches import Handler, process_batch
from winnow.agents.config import filter_config
from winnow.agents.runtime import build_app
from winnow.dedup.index import NearDuplicateIndex
from winnow.settings import Settings
from winnow.stages.filters.defaults import default_filters
from winnow.stages.score import heuristic_batch
from winnow.store import ExampleStore
from winnow.topics import TopicLayout


class Sink:
    """A faust topic's ``send`` for a handler, producing through a real aiokafka producer."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer, self.topic = producer, topic

    def get_topic_name(self) -> str:
        return self.topic

    async def send(self, *, key: bytes, value: bytes, headers: Any = None) -> Any:
        return await self.producer.send(self.topic, value=value, key=key, headers=headers)


async def records(bootstrap: str, topic: str, count: int) -> list[ConsumerRecord[Any, Any]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[ConsumerRecord[Any, Any]] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                for batch in (await consumer.getmany(timeout_ms=250)).values():
                    found += batch
    finally:
        await consumer.stop()
    return found


async def hop(
    settings: Settings, service: str, topic: str, count: int, handler: Handler
) -> list[ConsumerRecord[Any, Any]]:
    """Read ``count`` records of ``topic`` and run them as one batch through ``handler``."""
    found = await records(settings.kafka_bootstrap, topic, count)
    events = [SimpleNamespace(message=r, value=r.value, key=r.key) for r in found]
    await process_batch(build_app(service, settings), events, handler)
    return found


async def run_pipeline(
    settings: Settings, store: ExampleStore, *, events: int, dead: int
) -> list[ConsumerRecord[Any, Any]]:
    """validator, scorer and curator on ``events`` ticket events of which ``dead`` are dead-
    lettered; returns the curated records (every example left is expected curated)."""
    layout = TopicLayout.from_settings(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    sink: Callable[[str], Sink] = partial(Sink, producer)
    good = events - dead
    try:
        validate = validator_service.handler(settings, sink(layout.candidates), sink(layout.dlq))
        await hop(settings, "validator", layout.source("tickets"), events, validate)
        score = scorer_service.handler(heuristic_batch, sink(layout.scored), sink(layout.dlq))
        await hop(settings, "scorer", layout.candidates, good, score)
        curator = curator_service.Curator(
            app=build_app("curator", settings),
            settings=settings,
            store=store,
            filters=default_filters(filter_config(settings)),
            index=NearDuplicateIndex(settings.dedup_near_threshold),
            curated=sink(layout.curated),
            rejected=sink(layout.rejected),
            dlq=sink(layout.dlq),
        )
        curate = partial(curator_service.curate_events, curator)
        await hop(settings, "curator", layout.scored, good, curate)
        if dead:
            letters = partial(curator_service.record_dead_letter_events, curator)
            await hop(settings, "curator", layout.dlq, dead, letters)
    finally:
        await producer.stop()
    return await records(settings.kafka_bootstrap, layout.curated, good)
