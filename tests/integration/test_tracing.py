"""One event, one trace: gateway -> validator -> scorer -> curator -> store, over the real broker.

The gateway runs in process (FastAPI's TestClient) on the real Tansu broker and PostgreSQL; each
service's real batch handler then runs on the records read back from its input topic (headers as
aiokafka delivers them to faust) and produces through the real broker to the next topic
(``inprocess.run_pipeline``). Only faust's fetch loop is left out, so the spans land in one
in-memory exporter.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    set_span_in_context,
)
from tests.gateway.conftest import gateway_settings, running_client
from tests.integration.inprocess import run_pipeline

from winnow import tracing
from winnow.kafka.admin import ensure_topics
from winnow.kafka.broker import TansuBroker
from winnow.settings import Settings
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.testing.fixtures import ticket_event
from winnow.topics import TopicLayout

pytestmark = pytest.mark.integration

TRACE_ID = uuid.uuid4().hex
CALLER_SPAN = uuid.uuid4().hex[:16]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Winnow traces into an in-memory exporter for the test, then tracing is off again."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_tracer_provider(provider)
    yield exporter
    tracing.use_tracer_provider(None)


def _chain(found: list[ReadableSpan], leaf: ReadableSpan) -> list[str]:
    """Span names from ``leaf`` up to the caller's span, each step a parent link."""
    by_id = {s.context.span_id: s for s in found}
    names = [leaf.name]
    span = leaf
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    assert span.parent is not None and span.parent.span_id == int(CALLER_SPAN, 16)
    return names[::-1]


def test_one_event_is_one_trace_from_gateway_to_store(
    spans: InMemorySpanExporter,
    gateway_db: str,
    broker: TansuBroker,
    make_key: Callable[..., str],
    tmp_path: Path,
) -> None:
    """The caller's trace continues through every service to the store write, for a curated
    event and for a dead-lettered one; batch spans link to it and the curated record carries it."""
    settings = gateway_settings(gateway_db, broker.bootstrap, topic_partitions=1, data_dir=tmp_path)
    asyncio.run(ensure_topics(settings))
    tenant = f"t{uuid.uuid4().hex[:8]}"
    good = ticket_event(
        "I was charged twice this month, I want my money back.",
        "I've refunded the second charge; it will be back on your card within five days.",
        tenant=tenant,
    )
    bad = ticket_event("Where is my parcel?", "It ships tomorrow.", tenant=tenant)
    bad["data"]["conversation"] = bad["data"].pop("turns")  # renamed: valid JSON, wrong schema
    headers = {
        "X-API-Key": make_key(tenant, "ingest"),
        "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01",
    }
    with running_client(settings) as client:
        answer = client.post("/v1/events", json=[good], headers=headers)
        assert answer.status_code == 202, answer.text
        # The gateway refuses the bad event itself; it reaches the pipeline straight from Kafka
        # with the trace context of a producer that propagates W3C headers.
    store_url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(store_url)
    store = ExampleStore(store_url)
    asyncio.run(_produce_traced(settings, bad))
    curated = asyncio.run(run_pipeline(settings, store, events=2, dead=1))

    found = list(spans.get_finished_spans())
    trace = [s for s in found if s.context.trace_id == int(TRACE_ID, 16)]
    stored = [s for s in trace if s.name == "store write"]
    by_operation = {s.attributes["db.operation.name"]: s for s in stored}  # type: ignore[index]
    assert set(by_operation) == {"write_decisions", "record_dead_letters"}
    layout = TopicLayout.from_settings(settings)
    assert _chain(found, by_operation["write_decisions"]) == [
        "POST /v1/events",
        f"create {layout.source('tickets')}",
        f"process {layout.source('tickets')}",
        f"process {layout.candidates}",
        f"process {layout.scored}",
        "store write",
    ]
    assert _chain(found, by_operation["record_dead_letters"]) == [
        "producer",
        f"process {layout.source('tickets')}",
        f"process {layout.dlq}",
        "store write",
    ]
    services = [s.attributes.get("winnow.service") for s in trace if s.kind == SpanKind.CONSUMER]
    assert sorted(set(services)) == ["curator", "scorer", "validator"]  # type: ignore[type-var]
    # Each record span links to its batch span (a root of its own trace) and back.
    batches = {s.context.span_id: s for s in found if s.parent is None}
    for record in (s for s in trace if s.kind == SpanKind.CONSUMER):
        (link,) = record.links
        batch = batches[link.context.span_id]
        assert batch.context.trace_id != record.context.trace_id
        assert record.parent is not None
        assert any(lk.context.span_id == record.parent.span_id for lk in batch.links)
    # The curated record carries the trace on to whoever reads it.
    (record,) = curated
    traceparent = dict(record.headers)["traceparent"].decode()
    assert traceparent.split("-")[1] == TRACE_ID
    assert store.tally().accounted == 2
    store.close()


async def _produce_traced(settings: Settings, event: dict[str, Any]) -> None:
    """``event`` to the tickets topic from a traced producer span named ``producer``."""
    provider_tracer = tracing.tracer()
    assert provider_tracer is not None
    caller = NonRecordingSpan(
        SpanContext(int(TRACE_ID, 16), int(CALLER_SPAN, 16), True, TraceFlags(1))
    )
    span = provider_tracer.start_span(
        "producer", context=set_span_in_context(caller), kind=SpanKind.PRODUCER
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = TopicLayout.from_settings(settings).source("tickets")
        await producer.send_and_wait(
            topic, json.dumps(event).encode(), headers=tracing.headers_of(span)
        )
    finally:
        span.end()
        await producer.stop()
