"""aiokafka client settings derived from Winnow's settings: every client connects the same way."""

from __future__ import annotations

import ssl
from typing import Any

from winnow.settings import Settings


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A TLS context from the CA, client certificate and key settings; None without TLS."""
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    ctx = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile is not None:
        ctx.load_cert_chain(
            str(settings.kafka_ssl_certfile),
            str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        )
    return ctx


def security_kwargs(settings: Settings) -> dict[str, Any]:
    """aiokafka's security arguments (protocol, SASL, TLS); empty for PLAINTEXT."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    ctx = ssl_context(settings)
    if ctx is not None:
        kwargs["ssl_context"] = ctx
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        kwargs.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=password.get_secret_value() if password else None,
        )
    return kwargs


def admin_kwargs(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``AIOKafkaAdminClient``."""
    return {"bootstrap_servers": settings.kafka_bootstrap, **security_kwargs(settings)}


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
    kwargs.update(security_kwargs(settings))
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
        **security_kwargs(settings),
    }
