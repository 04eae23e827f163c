"""Produce source records to Kafka (the demo, ``winnow ingest``, ``winnow generate --produce``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaProducer

from winnow.kafka.clients import producer_kwargs
from winnow.settings import Settings


async def produce(
    settings: Settings,
    records: Iterable[tuple[str, bytes | None, bytes]],
    *,
    on_sent: Callable[[int], None] | None = None,
    window: int = 500,
) -> int:
    """Send (topic, key, value) records, waiting for every acknowledgement; return how many."""
    producer = AIOKafkaProducer(**producer_kwargs(settings))
    sent = 0
    try:
        await producer.start()  # inside the try: a failed start still closes the client
        batch = []
        for topic, key, value in records:
            batch.append(await producer.send(topic, value=value, key=key))
            if len(batch) >= window:
                for fut in batch:
                    await fut
                sent += len(batch)
                if on_sent:
                    on_sent(len(batch))
                batch = []
        for fut in batch:
            await fut
        sent += len(batch)
        if on_sent and batch:
            on_sent(len(batch))
    finally:
        await producer.stop()
    return sent
