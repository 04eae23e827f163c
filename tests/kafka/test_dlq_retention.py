"""The DLQ topic is created with the dead-letter retention; the other topics keep the broker's."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from winnow.kafka.admin import ensure_topics
from winnow.kafka.broker import TansuBroker
from winnow.settings import Settings

pytestmark = pytest.mark.integration


async def _retention_ms(bootstrap: str, topics: list[str]) -> dict[str, str | None]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
        )
    finally:
        await admin.close()
    found: dict[str, str | None] = {}
    for response in responses:
        for resource in response.resources:
            values = {entry[0]: entry[1] for entry in resource[4]}
            found[resource[3]] = values.get("retention.ms")
    return found


def test_dlq_topic_gets_the_retention_setting() -> None:
    """`WINNOW_DLQ_RETENTION_DAYS=3` creates `<prefix>.dlq` with retention.ms of three days."""
    prefix = f"ret{uuid.uuid4().hex[:6]}"
    with TansuBroker() as broker:
        settings = Settings(
            kafka_bootstrap=broker.bootstrap,
            kafka_idempotence=False,
            topic_prefix=prefix,
            dlq_retention_days=3,
        )
        asyncio.run(ensure_topics(settings, timeout_s=20))
        found = asyncio.run(_retention_ms(broker.bootstrap, [f"{prefix}.dlq", f"{prefix}.curated"]))
    assert found[f"{prefix}.dlq"] == str(3 * 86_400_000)
    assert found[f"{prefix}.curated"] is None  # the broker's default, as before
