"""Helpers shared by the integration tests that run the services under a ``Supervisor``."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select, text

from winnow.agents.supervisor import Supervisor
from winnow.kafka.produce import produce
from winnow.settings import Settings
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.topics import TopicLayout


def fresh_store(url: str) -> ExampleStore:
    """The store at ``url``, migrated, with no examples, rejections or dead letters."""
    upgrade(url)
    store = ExampleStore(url)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE examples, rejections, dead_letters, pii_subjects, erasures"))
    return store


def produce_records(sup: Supervisor, settings: Settings, records: list[tuple[str, bytes]]) -> None:
    """Produce ``(source, value)`` records to the source topics of ``sup``'s embedded broker."""
    assert sup.broker is not None
    run = settings.model_copy(
        update={"kafka_bootstrap": sup.broker.bootstrap, "kafka_idempotence": False}
    )
    layout = TopicLayout.from_settings(run)
    asyncio.run(produce(run, [(layout.source(src), None, value) for src, value in records]))


def wait_until(cond: Callable[[], bool], timeout_s: float, sup: Supervisor, what: str = "") -> None:
    """Poll ``cond`` (restarting exited services meanwhile) until true; fail naming the logs."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s {what}; logs in {sup.log_dir}")
        sup.poll()
        time.sleep(0.3)


def count_rows(store: ExampleStore, table: type) -> int:
    """Rows in ``table``."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


async def read_topic(bootstrap: str, topic: str, at_least: int) -> list[bytes]:
    """The values of ``topic`` from its start, once there are ``at_least`` (60 s at most)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(60):
            while len(values) < at_least:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    values += [r.value for r in records if r.value is not None]
    finally:
        await consumer.stop()
    return values


def metric(port: int, name: str, labels: str) -> float:
    """A service's counter, summed over every series whose labels match ``labels`` (a regex).

    0 when the service is not listening (restarting).
    """
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            body = resp.read().decode()
    except OSError:
        return 0.0
    return sum(float(v) for v in re.findall(rf"^{name}\{{{labels}\}} (\S+)$", body, re.M))
