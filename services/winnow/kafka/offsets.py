"""Topic offsets and consumer-group lag, for ``winnow status``.

Produced = the end offsets of a topic minus its offsets at a moment (``offsets_for_times``),
summed over partitions; lag = end offsets minus a group's committed offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from winnow.kafka.clients import admin_kwargs, consumer_kwargs
from winnow.settings import Settings


@dataclass(frozen=True)
class GroupLag:
    """How far one consumer group is behind on its input topics."""

    group: str
    lag: int
    committed: bool
    """False when the group has committed nothing yet (lag then counts from the start)."""


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    out: list[TopicPartition] = []
    for topic in topics:
        parts = consumer.partitions_for_topic(topic)
        if parts is None:  # metadata not fetched yet, or no such topic
            await consumer._client.force_metadata_update()  # the public API has no refresh
            parts = consumer.partitions_for_topic(topic) or set()
        out += [TopicPartition(topic, p) for p in sorted(parts)]
    return out


async def _end_offsets(
    consumer: AIOKafkaConsumer, parts: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The offset after each partition's last record.

    The broker's answer is checked by reading on from it: the embedded Tansu answers the
    offset of its last *batch* rather than the next record's (a 36-record partition said 26),
    while real Kafka's answer is exact and the read returns nothing.
    """
    if not parts:
        return {}
    ends: dict[TopicPartition, int] = dict(await consumer.end_offsets(parts))
    consumer.assign(parts)
    for tp in parts:
        consumer.seek(tp, ends[tp])
    while True:
        batch = await consumer.getmany(*parts, timeout_ms=300)
        if not batch:
            return ends
        for tp, records in batch.items():
            ends[tp] = max(ends[tp], records[-1].offset + 1)


async def produced_since(
    settings: Settings, topics: list[str], since: datetime | None
) -> dict[str, int]:
    """Records written to each topic since ``since`` (all retained records when None)."""
    consumer = AIOKafkaConsumer(**consumer_kwargs(settings))
    try:
        await consumer.start()
        parts = await _partitions(consumer, topics)
        ends = await _end_offsets(consumer, parts)
        if since is None:
            starts = await consumer.beginning_offsets(parts) if parts else {}
        else:
            stamp = int(since.timestamp() * 1000)
            found = await consumer.offsets_for_times({tp: stamp for tp in parts}) if parts else {}
            # No record at or after ``since`` in a partition: nothing was produced there since.
            starts = {tp: (o.offset if o is not None else ends[tp]) for tp, o in found.items()}
        out = dict.fromkeys(topics, 0)
        for tp, end in ends.items():
            out[tp.topic] += end - starts.get(tp, end)
        return out
    finally:
        await consumer.stop()


async def group_lags(settings: Settings, groups: dict[str, list[str]]) -> list[GroupLag]:
    """Lag of each consumer group (name -> its input topics), from its committed offsets."""
    consumer = AIOKafkaConsumer(**consumer_kwargs(settings))
    admin = AIOKafkaAdminClient(**admin_kwargs(settings))
    try:
        await consumer.start()
        await admin.start()
        out: list[GroupLag] = []
        for group, topics in groups.items():
            parts = await _partitions(consumer, topics)
            ends = await _end_offsets(consumer, parts)
            try:
                committed = await admin.list_consumer_group_offsets(group, partitions=parts)
            except KafkaError:
                committed = {}
            lag = 0
            for tp, end in ends.items():
                meta = committed.get(tp)
                offset = meta.offset if meta is not None and meta.offset >= 0 else 0
                lag += max(0, end - offset)
            out.append(GroupLag(group=group, lag=lag, committed=bool(committed)))
        return out
    finally:
        await admin.close()
        await consumer.stop()
