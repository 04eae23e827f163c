"""Create the topic layout at start-up (idempotent: existing topics are left alone)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from winnow.backoff import Backoff
from winnow.errors import BrokerError
from winnow.kafka.clients import admin_kwargs
from winnow.settings import Settings
from winnow.topics import TopicLayout

log = structlog.get_logger(__name__)


async def ensure_topics(settings: Settings, *, timeout_s: float = 60.0) -> list[str]:
    """Create every missing topic of the layout; return the names created."""
    layout = TopicLayout.from_settings(settings)
    admin = AIOKafkaAdminClient(**admin_kwargs(settings))
    deadline = asyncio.get_running_loop().time() + timeout_s
    backoff = Backoff(base_s=0.5, max_s=5.0)
    while True:
        try:
            await admin.start()
            break
        except KafkaConnectionError as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise BrokerError(f"no broker at {settings.kafka_bootstrap}: {exc}") from exc
            await asyncio.sleep(backoff.next())
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in layout.all() if t not in existing]
        if missing:
            # The DLQ holds original bytes (unredacted): kept no longer than its store copy.
            dlq_config = {"retention.ms": str(int(settings.dlq_retention_days * 86_400_000))}
            new = [
                NewTopic(
                    t,
                    settings.topic_partitions,
                    settings.topic_replication,
                    topic_configs=dlq_config if t == layout.dlq else None,
                )
                for t in missing
            ]
            with contextlib.suppress(TopicAlreadyExistsError):  # another service won the race
                await admin.create_topics(new)
            log.info("topics_created", topics=missing)
        return missing
    finally:
        await admin.close()
