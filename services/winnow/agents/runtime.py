"""What every service shares: the faust app with its commit fence, health and metrics pages,
and the worker with its stop grace period. The batch loop itself is ``winnow.agents.batches``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final, NoReturn

import faust
import structlog
from faust.transport.drivers import aiokafka as faust_aiokafka
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from winnow.kafka.clients import ssl_context
from winnow.metrics import READY
from winnow.settings import Settings

log = structlog.get_logger(__name__)

EXIT_UNDRAINED: Final = 75
"""Exit status (EX_TEMPFAIL) of a stop whose batch could not be written within the grace period."""


class _IdempotentProducer(faust_aiokafka.Producer):
    # faust turns idempotence on only inside transactions (exactly-once); Winnow wants it for
    # at-least-once too on real Kafka, where it stops producer retries from writing duplicates.
    def _settings_extra(self) -> dict[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    # faust passes a fixed fetch_max_wait_ms=1500 to aiokafka; on a partition with no new data
    # a fetch then parks for 1.5 s, which adds up over the pipeline's three hops at low rates.
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        wait_ms = getattr(self.app, "fetch_max_wait_ms", None)
        if wait_ms is not None:
            consumer._fetch_max_wait_ms = wait_ms
        return consumer


class _FencedConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    # The one place faust commits offsets (the commit timer, rebalances, and stop all end here).
    async def _commit(self, offsets: Mapping[Any, int]) -> bool:
        reason = getattr(self.app, "commits_fenced", None)
        if reason is not None:
            log.warning("commit_refused", reason=reason, partitions=len(offsets))
            return False
        return bool(await super()._commit(offsets))


class _WinnowTransport(faust_aiokafka.Transport):
    Consumer = _FencedConsumer


class _IdempotentTransport(_WinnowTransport):
    Producer = _IdempotentProducer


class WinnowApp(faust.App):
    """A faust app with Winnow's idempotence setting, readiness, liveness and commit fence.

    faust acknowledges a batch that an agent never finished: ``take_events`` acks its buffer in a
    ``finally`` when the agent is cancelled or raises, and the consumer commits on stop. Agents
    therefore process each batch inside :meth:`batch`; a batch that does not complete fences
    commits for the rest of the process, whose records are then read again after a restart
    (writes are idempotent), exactly as after kill -9.
    """

    def __init__(
        self, *args: Any, idempotent: bool, fetch_max_wait_ms: int | None = None, **kwargs: Any
    ) -> None:
        self._idempotent = idempotent
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.service_name: str = kwargs.pop("service_name")
        self.ready_checks: dict[str, bool] = {"started": False}
        self.commits_fenced: str | None = None
        """Why this process may commit no more offsets (None while it may)."""
        self.crash_cause: str | None = None
        """Why an agent died: liveness fails and the process stops (None while healthy)."""
        self.stop_requested = False
        self.stop_hook: Callable[[], None] | None = None
        """Stops the process the way SIGTERM does; set by :class:`WinnowWorker`."""
        self._batches: dict[int, float] = {}  # in-flight batch -> monotonic start
        self._no_batches = asyncio.Event()
        self._no_batches.set()
        self._batch_seq = 0
        self._ready_since = time.monotonic()
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Any:
        if self._idempotent:
            return _IdempotentTransport(self.conf.broker_consumer, self)
        return _WinnowTransport(self.conf.broker_consumer, self)

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Process one batch from ``take_events`` inside this; it must end with the batch written.

        If it ends otherwise (cancelled by a stop, or an exception the agent did not handle),
        commits are fenced; if the process is not stopping, the agent is marked crashed.
        """
        self._batch_seq += 1
        token = self._batch_seq
        self._batches[token] = time.monotonic()
        self._no_batches.clear()
        try:
            yield
        except BaseException as exc:
            stopping = self.stop_requested or self.should_stop
            self.fence_commits(f"batch unfinished ({type(exc).__name__})")
            if not (stopping and isinstance(exc, asyncio.CancelledError)):
                self.mark_crashed(f"{type(exc).__name__}: {exc}"[:300])
            raise
        finally:
            del self._batches[token]
            if not self._batches:
                self._no_batches.set()

    @property
    def batches_in_flight(self) -> int:
        """Batches taken from a stream and not yet written."""
        return len(self._batches)

    def fence_commits(self, reason: str) -> None:
        """Refuse every later offset commit of this process."""
        if self.commits_fenced is None:
            self.commits_fenced = reason
            log.warning("commits_fenced", service=self.service_name, reason=reason)

    def mark_crashed(self, reason: str) -> None:
        """Fail liveness for good and stop the process, so that it is restarted."""
        self.fence_commits(f"agent crashed: {reason}")
        if self.crash_cause is None:
            self.crash_cause = reason
            log.error("agent_crashed", service=self.service_name, reason=reason)
            if self.stop_hook is not None:
                self.stop_hook()

    async def drain(self, grace_s: float) -> bool:
        """On a stop request: wait up to ``grace_s`` for the batches in hand to be written.

        True when none is left in hand.
        """
        self.stop_requested = True
        try:
            await asyncio.wait_for(self._no_batches.wait(), grace_s)
        except TimeoutError:
            log.warning(
                "stop_grace_expired",
                service=self.service_name,
                batches=len(self._batches),
                grace_s=grace_s,
            )
            return False
        return True

    def exit_now(self, reason: str) -> NoReturn:
        """Exit at once, committing nothing more: what kill -9 does, which is known safe.

        Records taken but not written are read again by whoever owns their partitions next;
        produced records of finished batches were already acknowledged by the broker.
        """
        self.fence_commits(reason)
        code = 1 if self.crash_cause is not None else EXIT_UNDRAINED
        log.warning("exiting_without_commit", service=self.service_name, reason=reason, code=code)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def liveness_problems(self, stall_s: float) -> list[str]:
        """Why the service is not live (empty when it is): crashed or stopped agents, a hang."""
        problems = [f"agent crashed: {self.crash_cause}"] if self.crash_cause else []
        stopping = self.stop_requested or self.should_stop
        for agent in self.agents.values():
            for actor in agent._actors:
                if getattr(actor, "crash_reason", None) is not None:
                    problems.append(f"agent {agent.name} crashed")
                task = getattr(actor, "actor_task", None)
                if task is not None and task.done() and not stopping:
                    problems.append(f"agent {agent.name} stopped")
        if self._batches and self.is_ready:
            # Store outages do not count: the clock restarts when the service is ready again.
            now = time.monotonic()
            busy = now - max(min(self._batches.values()), self._ready_since)
            if busy > stall_s:
                problems.append(f"one batch in progress for {busy:.0f} s")
        return problems

    def set_ready(self, check: str, ok: bool) -> None:
        """Record one readiness condition; the service is ready when all hold."""
        if self.ready_checks.get(check) != ok:
            log.info("readiness_changed", service=self.service_name, check=check, ok=ok)
        was_ready = self.is_ready
        self.ready_checks[check] = ok
        if self.is_ready and not was_ready:
            self._ready_since = time.monotonic()
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
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
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
        # faust binds web_bind (default 0.0.0.0), not web_host: bind the configured address.
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        # faust's own pages list partitions (`/router/`) and dump table contents (`/table/`)
        # without auth; only Winnow's pages are served.
        web_router_enabled=False,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        **_faust_security(settings),
    )
    _add_pages(app, settings)

    @app.task  # type: ignore[untyped-decorator]  # faust types app.task loosely
    async def _mark_started() -> None:
        app.set_ready("started", True)

    # Nothing else watches a process under `winnow up`: one that is not live stops itself (exit
    # status 1), and the supervisor or Kubernetes starts a fresh one.
    @app.timer(interval=2.0)  # type: ignore[untyped-decorator]
    async def _watchdog() -> None:
        problems = app.liveness_problems(settings.liveness_stall_s)
        if problems and app.crash_cause is None:
            app.mark_crashed("; ".join(problems))

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


def _add_pages(app: WinnowApp, settings: Settings) -> None:
    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        problems = app.liveness_problems(settings.liveness_stall_s)
        if problems:
            return web.json({"status": "not live", "problems": problems}, status=503)
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


class WinnowWorker(faust.Worker):
    """faust's worker, with a grace period for the batches in hand on SIGTERM or SIGINT."""

    def __init__(self, app: WinnowApp, *args: Any, grace_s: float, **kwargs: Any) -> None:
        super().__init__(app, *args, **kwargs)
        # faust's terminal spinner wrote `\b\x1b[?25h` (show cursor) to stdout at start-up
        # even off a terminal: the first line of every service log was not JSON.
        self.spinner = None
        self._grace_s = grace_s
        app.stop_hook = lambda: self._schedule_shutdown(signal.SIGTERM)

    async def _stop_on_signal(self, signal: signal.Signals) -> None:
        app = self.app
        if isinstance(app, WinnowApp):
            # Before faust's stop: it waits for every fetched record to be acknowledged, so a
            # batch stuck on a store outage would hold it until the SIGKILL; and it cancels
            # agents, whose unfinished batches faust then acknowledges.
            if not await app.drain(self._grace_s):
                app.exit_now("batch unwritten when the stop grace period ended")
            if app.commits_fenced is not None:
                app.exit_now(app.commits_fenced)  # a graceful stop could not commit anyway
            # A batch taken after the drain can still hang faust's stop on the store.
            self.loop.call_later(self._grace_s + 15.0, app.exit_now, "stop took too long")
        await super()._stop_on_signal(signal)


def run_worker(app: WinnowApp, settings: Settings, loop: asyncio.AbstractEventLoop) -> NoReturn:
    """Run ``app`` until SIGTERM or SIGINT; exit with status 1 if an agent crashed."""
    worker = WinnowWorker(
        app,
        loop=loop,
        grace_s=settings.stop_grace_s,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,
    )
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        if app.crash_cause is not None:
            raise SystemExit(1) from exc
        raise
    raise SystemExit(1 if app.crash_cause else 0)  # execute_from_commandline always raises
