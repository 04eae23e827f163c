"""The gateway's Kafka producer: source topic by event type, key = event id."""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaProducer

from winnow.backoff import Backoff
from winnow.kafka.clients import producer_kwargs
from winnow.settings import Settings
from winnow.topics import SOURCE_FOR_TYPE, TopicLayout

log = structlog.get_logger(__name__)

OutRecord = tuple[str, bytes, bytes, list[tuple[str, bytes]]]
"""(topic, key, value, headers) for :meth:`Publisher.send`."""


class Publisher:
    """Starts an aiokafka producer in the background (retrying) and sends batches through it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._layout = TopicLayout.from_settings(settings)
        self._producer: AIOKafkaProducer | None = None
        self._starter: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """True once the producer has connected."""
        return self._producer is not None

    def topic_for(self, event_type: str) -> str:
        """The source topic of an event type."""
        return self._layout.source(SOURCE_FOR_TYPE[event_type])

    async def start(self) -> None:
        """Begin connecting; returns at once (readiness tells when it is done)."""
        self._starter = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        backoff = Backoff(max_s=5.0)
        while True:
            producer = AIOKafkaProducer(**producer_kwargs(self._settings))
            try:
                await producer.start()
            except Exception as exc:
                await producer.stop()
                log.warning("gateway_producer_unavailable", error=type(exc).__name__)
                await asyncio.sleep(backoff.next())
                continue
            self._producer = producer
            log.info("gateway_producer_started")
            return

    async def stop(self) -> None:
        """Stop connecting or flush and close the producer."""
        if self._starter is not None and not self._starter.done():
            self._starter.cancel()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, records: list[OutRecord], timeout_s: float = 10.0) -> None:
        """Produce (topic, key, value, headers) records and wait for every acknowledgement."""
        if not records:
            return
        if self._producer is None:
            raise ConnectionError("the Kafka producer is not connected")
        futures = [
            await self._producer.send(t, value=v, key=k, headers=h or None)
            for t, k, v, h in records
        ]
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*futures)
