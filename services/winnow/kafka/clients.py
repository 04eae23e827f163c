"""aiokafka client settings derived from Winnow's settings: every client connects the same way."""

from __future__ import annotations

from typing import Any

from winnow.settings import Settings


def producer_kwargs(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``AIOKafkaProducer``: idempotent (acks=all) unless turned off."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "linger_ms": 5,
        "max_request_size": max(1_048_576, settings.max_event_bytes * 2),
    }
    if settings.kafka_idempotence:
        kwargs.update(enable_idempotence=True, acks="all")
    else:
        kwargs.update(acks="all")
    return kwargs


def consumer_kwargs(settings: Settings, group_id: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``AIOKafkaConsumer``, with the group timeouts from settings."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        "enable_auto_commit": False,
        "session_timeout_ms": int(settings.kafka_session_timeout_s * 1000),
        "heartbeat_interval_ms": int(settings.kafka_heartbeat_s * 1000),
        "rebalance_timeout_ms": int(settings.kafka_rebalance_timeout_s * 1000),
    }
