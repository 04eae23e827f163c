"""What every service shares: the faust app, health and metrics pages, batch send with retries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import faust
import structlog
from faust.transport.drivers import aiokafka as faust_aiokafka
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from winnow.kafka.clients import ssl_context
from winnow.metrics import READY
from winnow.settings import Settings

log = structlog.get_logger(__name__)


class _IdempotentProducer(faust_aiokafka.Producer):
    # faust turns idempotence on only inside transactions (exactly-once); Winnow wants it for
    # at-least-once too on real Kafka, where it stops producer retries from writing duplicates.
    def _settings_extra(self) -> dict[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class _IdempotentTransport(faust_aiokafka.Transport):
    Producer = _IdempotentProducer


class WinnowApp(faust.App):
    """A faust app with Winnow's idempotence setting and a readiness flag."""

    def __init__(self, *args: Any, idempotent: bool, **kwargs: Any) -> None:
        self._idempotent = idempotent
        self.service_name: str = kwargs.pop("service_name")
        self.ready_checks: dict[str, bool] = {"started": False}
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Any:
        if self._idempotent:
            return _IdempotentTransport(self.conf.broker_consumer, self)
        return super()._new_transport()

    def set_ready(self, check: str, ok: bool) -> None:
        """Record one readiness condition; the service is ready when all hold."""
        if self.ready_checks.get(check) != ok:
            log.info("readiness_changed", service=self.service_name, check=check, ok=ok)
        self.ready_checks[check] = ok
        READY.labels(self.service_name).set(1 if self.is_ready else 0)

    @property
    def is_ready(self) -> bool:
        """True when every readiness condition holds."""
        return all(self.ready_checks.values())


def build_app(service: str, settings: Settings) -> WinnowApp:
    """A faust app for one service: its own consumer group, web server and timeouts."""
    datadir = (settings.data_dir / "faust" / service).resolve()
    datadir.parent.mkdir(parents=True, exist_ok=True)  # faust creates only the last level
    app = WinnowApp(
        f"{settings.topic_prefix}-{service}",
        service_name=service,
        idempotent=settings.kafka_idempotence,
        broker=[f"kafka://{h.strip()}" for h in settings.kafka_bootstrap.split(",")],
        store="memory://",
        autodiscover=False,
        datadir=str(datadir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_heartbeat_interval=settings.kafka_heartbeat_s,
        broker_rebalance_timeout=settings.kafka_rebalance_timeout_s,
        broker_commit_interval=settings.kafka_commit_interval_s,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_request_size=max(1_048_576, settings.max_event_bytes * 2),
        consumer_max_fetch_size=max(4_194_304, settings.max_event_bytes * 4),
        web_enabled=True,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        **_faust_security(settings),
    )
    _add_pages(app)

    @app.task  # type: ignore[untyped-decorator]  # faust types app.task loosely
    async def _mark_started() -> None:
        app.set_ready("started", True)

    return app


def _faust_security(settings: Settings) -> dict[str, Any]:
    """faust's ``broker_credentials`` from the same settings as the aiokafka clients."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    ctx = ssl_context(settings)
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password
        creds: Any = faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            ssl_context=ctx,
            mechanism=settings.kafka_sasl_mechanism,
        )
    else:
        creds = faust.SSLCredentials(ctx)
    return {"broker_credentials": creds}


def _add_pages(app: WinnowApp) -> None:
    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        crashed = [a.name for a in app.agents.values() if _agent_crashed(a)]
        if crashed:
            return web.json({"status": "agent crashed", "agents": crashed}, status=503)
        return web.json({"status": "ok", "service": app.service_name})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        status = 200 if app.is_ready else 503
        return web.json({"ready": app.is_ready, "checks": app.ready_checks}, status=status)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(
            generate_latest(),
            # As a header: aiohttp refuses a charset inside its content_type argument.
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )


def _agent_crashed(agent: Any) -> bool:
    # faust restarts a crashed agent and skips the record that killed it; Winnow's agents catch
    # everything per record, so any crash is a bug that liveness must surface.
    return any(getattr(actor, "crash_reason", None) is not None for actor in agent._actors)


async def send_all(
    topic: Any, records: Iterable[tuple[bytes, bytes]], *, service: str, max_backoff_s: float = 30.0
) -> None:
    """Produce every (key, value) and wait until the broker has them all.

    Retries with back-off instead of raising: a raise would let faust ack the batch unprocessed.
    """
    pending = list(records)
    delay = 0.2
    while pending:
        try:
            futures = [await topic.send(key=k, value=v) for k, v in pending]
            await asyncio.gather(*futures)
            return
        except Exception as exc:
            log.warning(
                "produce_failed",
                service=service,
                topic=topic.get_topic_name(),
                error=type(exc).__name__,
                retry_in_s=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff_s)


class Stopwatch:
    """Seconds since construction."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start
