"""A CloudEvents-SDK producer, binary and structured mode, through the real pipeline: on Kafka
(services under the supervisor) and over HTTP (the gateway, then the services' real handlers)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cloudevents.core.bindings import http as ce_http
from cloudevents.v1 import kafka as ce_kafka
from cloudevents.v1.http import CloudEvent
from sqlalchemy import select
from tests.gateway.conftest import gateway_settings, running_client
from tests.gateway.test_cloudevents import post, sdk_event
from tests.integration.inprocess import run_pipeline

from winnow.agents.supervisor import Supervisor
from winnow.kafka.admin import ensure_topics
from winnow.kafka.broker import TansuBroker
from winnow.settings import Settings
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.store.tables import DeadLetterRow, ExampleRow
from winnow.testing.fixtures import ticket_event
from winnow.topics import TopicLayout

from .helpers import count_rows, wait_until

pytestmark = pytest.mark.integration

PAIRS = [
    (
        "I was charged twice this month, I want my money back.",
        "I've refunded the second charge; it will be back on your card within five business days.",
    ),
    (
        "How do I change the delivery address of my order?",
        "Open Orders, choose the order and press Edit address; you can change it until it ships.",
    ),
]


async def _send(bootstrap: str, topic: str, messages: list[ce_kafka.KafkaMessage]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for m in messages:
            await producer.send_and_wait(topic, m.value, key=m.key, headers=list(m.headers.items()))
    finally:
        await producer.stop()


async def _first_curated(bootstrap: str, topic: str) -> ce_kafka.KafkaMessage:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 60)
        return ce_kafka.KafkaMessage(dict(record.headers), record.key, record.value)
    finally:
        await consumer.stop()


def test_sdk_events_in_both_modes_are_curated(tmp_path: Path) -> None:
    """Both SDK events become curated examples, none is dead-lettered; the curated record is a
    CloudEvent the SDK reads back."""
    url = f"sqlite:///{tmp_path}/w.db"
    upgrade(url)
    store = ExampleStore(url)
    settings = Settings(database_url=url, data_dir=tmp_path, topic_partitions=1, batch_wait_s=0.1)
    events = []
    for question, answer in PAIRS:
        data = ticket_event(question, answer)["data"]
        attrs = {
            "type": "winnow.support_ticket.v1",
            "source": "https://helpdesk.example.com",
            "tenant": "acme",
            "datacontenttype": "application/json",
            "subject": data["ticket_id"],
        }
        events.append(CloudEvent(attrs, data))
    messages = [ce_kafka.to_binary(events[0]), ce_kafka.to_structured(events[1])]
    layout = TopicLayout.from_settings(settings)
    with Supervisor(settings, log_dir=tmp_path / "logs") as sup:
        sup.wait_ready()
        assert sup.broker is not None
        asyncio.run(_send(sup.broker.bootstrap, layout.source("tickets"), messages))
        wait_until(lambda: store.tally().accounted >= 2, 180, sup, "for 2 outcomes")
        curated = asyncio.run(_first_curated(sup.broker.bootstrap, layout.curated))
    assert count_rows(store, DeadLetterRow) == 0
    with store.engine.connect() as conn:
        ids = set(conn.execute(select(ExampleRow.source_event_id)).scalars())
    assert ids == {e["id"] for e in events}, store.tally()
    out = ce_kafka.from_binary(curated)
    assert out["type"] == "winnow.example.curated.v1" and out["tenant"] == "acme"
    assert out["subject"] in ids and out.data["tenant"] == "acme"
    store.close()


def test_sdk_http_events_in_both_modes_are_curated(
    gateway_db: str, broker: TansuBroker, make_key: Callable[..., str], tmp_path: Path
) -> None:
    """Events the SDK sends to the gateway in binary and in structured HTTP mode go through the
    validator, scorer and curator (their real handlers, on the real broker) to curated rows;
    none is dead-lettered."""
    settings = gateway_settings(gateway_db, broker.bootstrap, topic_partitions=1, data_dir=tmp_path)
    asyncio.run(ensure_topics(settings))
    tenant = f"t{uuid.uuid4().hex[:8]}"
    events = [sdk_event(tenant, question=q, answer=a) for q, a in PAIRS]
    messages = [ce_http.to_binary_event(events[0]), ce_http.to_structured_event(events[1])]
    with running_client(settings) as client:
        for message in messages:
            answer = post(client, make_key(tenant, "ingest"), message)
            assert answer.status_code == 202 and len(answer.json()["accepted"]) == 1, answer.text
    url = f"sqlite:///{tmp_path}/w.db"
    upgrade(url)
    store = ExampleStore(url)
    curated = asyncio.run(run_pipeline(settings, store, events=2, dead=0))
    assert count_rows(store, DeadLetterRow) == 0
    with store.engine.connect() as conn:
        ids = set(conn.execute(select(ExampleRow.source_event_id)).scalars())
    assert (
        ids
        == {e.get_id() for e in events}
        == {dict(r.headers)["ce_subject"].decode() for r in curated}
    )
    store.close()
