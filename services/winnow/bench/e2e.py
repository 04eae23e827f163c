"""``winnow bench e2e``: broker -> store throughput against the scorer alone, and latency.

1. Ceiling: the scorer alone, in this process, before anything else starts: heuristics plus
   ``QualityScorer.score_batch`` over the examples of the very events the pipeline will get,
   in batches of ``WINNOW_BATCH_MAX``, with the same ONNX Runtime threads and embedder.
2. Throughput: an embedded broker starts alone, every event is produced into the tickets topic,
   then the validator, scorer and curator start (``Supervisor``) and drain the backlog.
   Events/s to the store is taken from the store's own timestamps (``stored_at``,
   ``rejected_at``, ``failed_at``): from the first stored batch to the last event's outcome,
   the first batch excluded (its time is the pipeline filling, not draining).
3. Latency: with the services still running, new events are produced paced at half the
   measured rate; each event's latency is the time from its send to its last row in the store.

The pipeline (broker, three services, PostgreSQL) shares this machine's cores with nothing
else from the benchmark, but the ceiling had those cores to itself: on a small machine the
ratio measures the cost of running three services and a broker beside the scorer too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from winnow.bench.corpus import bench_pairs
from winnow.bench.report import BenchResult, Figure, Goal, machine_info, percentile
from winnow.errors import WinnowError
from winnow.events import DeadLetter
from winnow.example import Example
from winnow.settings import Settings
from winnow.stages.decode import Coordinates
from winnow.stages.heuristics import score_heuristics
from winnow.stages.validate import validate_record
from winnow.store.store import ExampleStore
from winnow.testing.fixtures import as_bytes, ticket_event

if TYPE_CHECKING:
    from matplotlib.figure import Figure as PlotFigure

Tick = Callable[[int], None]
TENANT = "bench"

# Per source event: when its last row reached the store, and whether every row is there.
_OUTCOMES = text(
    """
    SELECT event_id, max(t), count(*) >= max(fanout) FROM (
        SELECT source_event_id AS event_id, stored_at AS t, source_fanout AS fanout
        FROM examples WHERE source_event_id LIKE :prefix
        UNION ALL
        SELECT source_event_id, rejected_at, source_fanout
        FROM rejections WHERE source_event_id LIKE :prefix
        UNION ALL
        SELECT event_id, failed_at, 1 FROM dead_letters WHERE event_id LIKE :prefix
    ) AS outcomes GROUP BY event_id
    """
)


@dataclass(frozen=True)
class E2EReport:
    """What the three phases measured."""

    events: int
    batch: int
    threads: int
    scorer_s: float
    single_event_s: float
    drain_events: int
    drain_s: float
    first_batch: int
    latency_events: int
    paced_rate: float
    achieved_rate: float
    latencies: list[float]

    @property
    def scorer_per_s(self) -> float:
        """Events per second through the scorer alone (the ceiling)."""
        return self.events / self.scorer_s

    @property
    def pipeline_per_s(self) -> float:
        """Events per second from broker to store while draining the backlog."""
        return (self.drain_events - self.first_batch) / self.drain_s if self.drain_s else 0.0


def bench_events(n: int, seed: int, prefix: str) -> list[tuple[str, bytes]]:
    """``n`` one-question resolved support tickets of real Q&A, ids ``<prefix><i>``."""
    return [
        (f"{prefix}{i}", as_bytes(ticket_event(q, a, tenant=TENANT, id=f"{prefix}{i}")))
        for i, (q, a) in enumerate(bench_pairs(n, seed))
    ]


def scorer_ceiling(
    settings: Settings, events: list[tuple[str, bytes]], batch: int
) -> tuple[float, float]:
    """Seconds the scorer alone takes over the events' examples, and for one event alone."""
    from winnow.scoring import QualityScorer

    examples: list[Example] = []
    for i, (_, value) in enumerate(events):
        out = validate_record(value, Coordinates("bench", 0, i), max_bytes=settings.max_event_bytes)
        if not isinstance(out, DeadLetter):
            examples += out
    quality = QualityScorer.from_settings(settings)
    quality.score_batch([score_heuristics(e) for e in examples[:batch]])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(examples), batch):
        quality.score_batch([score_heuristics(e) for e in examples[start : start + batch]])
    total = time.perf_counter() - started
    singles: list[float] = []
    for example in examples[:20]:
        one = time.perf_counter()
        quality.score_batch([score_heuristics(example)])
        singles.append(time.perf_counter() - one)
    return total, percentile(singles, 50)


def outcomes(store: ExampleStore, prefix: str) -> dict[str, datetime]:
    """Event id -> time of its last row, for events whose every row is stored."""
    with store.engine.connect() as conn:
        rows = conn.execute(_OUTCOMES, {"prefix": f"{prefix}%"})
        return {event_id: t for event_id, t, complete in rows if complete}


def wait_for(
    store: ExampleStore,
    prefix: str,
    n: int,
    timeout_s: float,
    poll: Callable[[], None],
    tick: Tick | None = None,
) -> dict[str, datetime]:
    """Poll the store until ``n`` events with ids ``<prefix>...`` are accounted for."""
    deadline = time.monotonic() + timeout_s
    seen = 0
    while True:
        done = outcomes(store, prefix)
        if tick and len(done) > seen:
            tick(len(done) - seen)
            seen = len(done)
        if len(done) >= n:
            return done
        if time.monotonic() > deadline:
            raise WinnowError(f"{len(done)} of {n} events stored after {timeout_s:.0f} s")
        poll()
        time.sleep(0.5)


async def produce_paced(
    settings: Settings, topic: str, events: list[tuple[str, bytes]], rate: float
) -> dict[str, float]:
    """Send events at ``rate`` per second; return each event's send time (epoch seconds)."""
    from aiokafka import AIOKafkaProducer

    from winnow.kafka.clients import producer_kwargs

    producer = AIOKafkaProducer(**producer_kwargs(settings))
    await producer.start()
    sent: dict[str, float] = {}
    pending = []
    try:
        start = time.monotonic()
        for i, (event_id, value) in enumerate(events):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[event_id] = time.time()
            pending.append(await producer.send(topic, value=value, key=event_id.encode()))
        for fut in pending:
            await fut
    finally:
        await producer.stop()
    return sent


def _child_env(settings: Settings) -> dict[str, str]:
    """The services' environment: the same batching, threads and models as the ceiling."""
    return {
        "WINNOW_BATCH_MAX": str(settings.batch_max),
        "WINNOW_BATCH_WAIT_S": str(settings.batch_wait_s),
        "WINNOW_ORT_INTRA_OP_THREADS": str(settings.ort_intra_op_threads),
        "WINNOW_ORT_PROVIDERS": '["' + '","'.join(settings.ort_providers) + '"]',
        "WINNOW_MODELS_DIR": str(Path(settings.models_dir).resolve()),
        "WINNOW_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "WINNOW_SCORER_WORKERS": "1",
    }


def _drain_rate(
    done: dict[str, datetime], events: int, services_started: float
) -> tuple[int, float, float]:
    """``(first_batch, drain_s, events/s)`` from the store's outcome times, first batch excluded."""
    times = sorted(t.timestamp() for t in done.values())
    first_batch = sum(1 for t in times if t == times[0])
    drain_s = times[-1] - times[0]
    if first_batch == events:
        # One batch held everything (tiny runs): count from the services' start
        # instead, start-up included, which understates the rate.
        first_batch, drain_s = 0, times[-1] - services_started
    max_rate = (events - first_batch) / drain_s if drain_s else float(events)
    return first_batch, drain_s, max_rate


def measure(
    settings: Settings,
    *,
    events: int,
    latency_events: int,
    seed: int,
    log_dir: Path,
    timeout_s: float,
    progress: Callable[[str, int], Tick] | None = None,
) -> E2EReport:
    """The three phases (see the module's docstring) against ``settings.database_url``."""
    from winnow.agents.supervisor import EMBEDDED_BROKER_ENV, Supervisor
    from winnow.kafka.produce import produce
    from winnow.topics import TopicLayout

    run_id = f"{time.time_ns():x}"
    drain = bench_events(events, seed, f"bench-{run_id}-d")
    paced = bench_events(latency_events, seed + 1, f"bench-{run_id}-l")
    scorer_s, single_s = scorer_ceiling(settings, drain, settings.batch_max)
    child_env = _child_env(settings)
    store = ExampleStore(settings.database_url)
    broker = Supervisor(settings, services=(), log_dir=log_dir)
    try:
        broker.start()  # the broker alone: migrations, topics, no services yet
        assert broker.broker is not None
        bootstrap = broker.broker.bootstrap
        run = settings.model_copy(update={"kafka_bootstrap": bootstrap, "kafka_idempotence": False})
        topic = TopicLayout.from_settings(run).source("tickets")
        asyncio.run(produce(run, [(topic, eid.encode(), value) for eid, value in drain]))
        services = Supervisor(
            run,
            embedded_broker=False,
            prepare=False,
            log_dir=log_dir,
            extra_env={**EMBEDDED_BROKER_ENV, "WINNOW_KAFKA_BOOTSTRAP": bootstrap, **child_env},
        )
        services_started = time.time()
        with services:
            tick = progress("drain", events) if progress else None
            done = wait_for(store, f"bench-{run_id}-d", events, timeout_s, services.poll, tick)
            first_batch, drain_s, max_rate = _drain_rate(done, events, services_started)
            rate = max(max_rate / 2, 0.1)
            tick = progress("latency", latency_events) if progress else None
            sent = asyncio.run(produce_paced(run, topic, paced, rate))
            stored = wait_for(
                store, f"bench-{run_id}-l", latency_events, timeout_s, services.poll, tick
            )
    finally:
        broker.stop()
        store.close()
    send_times = sorted(sent.values())
    span = send_times[-1] - send_times[0] if len(send_times) > 1 else 0.0
    return E2EReport(
        events=events,
        batch=settings.batch_max,
        threads=settings.ort_intra_op_threads,
        scorer_s=scorer_s,
        single_event_s=single_s,
        drain_events=events,
        drain_s=drain_s,
        first_batch=first_batch,
        latency_events=latency_events,
        paced_rate=rate,
        achieved_rate=(len(send_times) - 1) / span if span else 0.0,
        latencies=[stored[eid].timestamp() - t for eid, t in sent.items()],
    )


def run(
    settings: Settings,
    *,
    events: int,
    latency_events: int,
    seed: int,
    log_dir: Path,
    timeout_s: float,
    command: str,
    progress: Callable[[str, int], Tick] | None = None,
) -> BenchResult:
    """``winnow bench e2e`` against the empty database ``settings.database_url``."""
    machine = machine_info()
    r = measure(
        settings,
        events=events,
        latency_events=latency_events,
        seed=seed,
        log_dir=log_dir,
        timeout_s=timeout_s,
        progress=progress,
    )
    floor = ("scorer alone, one event", r.single_event_s)
    figures = [
        Figure(
            "broker -> store throughput",
            r.pipeline_per_s,
            "events/s",
            r.scorer_per_s,
            "scorer alone, same events",
            Goal(0.70, on="ratio"),
        ),
        Figure("event -> store latency p50", percentile(r.latencies, 50), "s", floor[1], floor[0]),
        Figure("event -> store latency p95", percentile(r.latencies, 95), "s", floor[1], floor[0]),
        Figure(
            "event -> store latency p99",
            percentile(r.latencies, 99),
            "s",
            floor[1],
            floor[0],
            Goal(2.0, at_least=False, unit="s"),
        ),
    ]
    drained = (
        f"first stored batch ({r.first_batch} events) excluded"
        if r.first_batch
        else "from the services' start (one stored batch: start-up included)"
    )
    table = [
        "| phase | events | seconds | events/s | detail |",
        "|---|---:|---:|---:|---|",
        f"| scorer alone (ceiling) | {r.events:,} | {r.scorer_s:.2f} | {r.scorer_per_s:,.1f} |"
        f" batch {r.batch}, {r.threads or 'all'} ORT threads, one process |",
        f"| pipeline drain | {r.drain_events:,} | {r.drain_s:.2f} | {r.pipeline_per_s:,.1f} |"
        f" {drained} |",
        f"| paced (latency) | {r.latency_events:,} | - | {r.achieved_rate:,.1f} |"
        f" target {r.paced_rate:,.1f}/s = half the drain rate; max latency"
        f" {max(r.latencies):.2f} s |",
    ]
    notes = [
        "Events: one-question resolved support tickets of real Bitext / schema-guided-dialogue"
        " Q&A (`winnow.bench.corpus`), one example each, produced to `winnow.sources.tickets`.",
        "Pipeline: embedded Tansu broker, `validator`, `scorer` and `curator` (one process each)"
        " and PostgreSQL, all on this machine's cores, the same cores the ceiling had to itself;"
        " the ratio includes the cost of running them side by side.",
        "Latency: send time to the event's last row in the store (the store's `stored_at` /"
        " `rejected_at` / `failed_at`, set as the write transaction starts, so a write's own"
        " few milliseconds are not counted).",
    ]
    return BenchResult(
        name="e2e",
        command=command,
        machine=machine,
        figures=figures,
        tables=["\n".join(table)],
        notes=notes,
        data={"report": r},
        plot=_plot,
    ).finish()


def _plot(result: BenchResult) -> PlotFigure:
    import matplotlib.pyplot as plt

    r: E2EReport = result.data["report"]  # type: ignore[assignment]
    fig, (rate, lat) = plt.subplots(1, 2, figsize=(10, 4))
    rate.bar(["scorer alone\n(ceiling)", "broker -> store"], [r.scorer_per_s, r.pipeline_per_s])
    rate.axhline(0.7 * r.scorer_per_s, color="grey", linestyle="--", label="goal: 0.70 x ceiling")
    rate.set(ylabel="events/s")
    rate.legend()
    lat.hist(r.latencies, bins=40)
    for q, style in ((50, "-"), (95, "--"), (99, ":")):
        lat.axvline(percentile(r.latencies, q), color="black", linestyle=style, label=f"p{q}")
    lat.axvline(2.0, color="red", linestyle="-.", label="goal p99 2 s")
    lat.set(xlabel=f"event -> store latency at {r.achieved_rate:.1f} events/s (s)", ylabel="events")
    lat.legend()
    fig.suptitle("winnow bench e2e: throughput and latency")
    return fig
