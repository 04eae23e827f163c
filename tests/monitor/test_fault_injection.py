"""Fault injection on the real broker: a stream that turns bad fires one alert, then resolves it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from winnow.events import AlertEvent
from winnow.generator import EventGenerator
from winnow.kafka.produce import produce
from winnow.monitor.store import MonitorStore
from winnow.settings import Settings
from winnow.store.migrate import upgrade
from winnow.supervisor import Supervisor, free_port
from winnow.testing import as_bytes, ticket_event
from winnow.topics import TopicLayout

pytestmark = pytest.mark.integration

RULES = """
rules:
  - {name: empty_answers, kind: reject_rate, reason: empty_answer, severity: warning,
     threshold: 0.3, resolve_below: 0.1, for: 2, resolve_after: 2, min_events: 10}
"""


@pytest.fixture
def monitor_store(postgres_url: str) -> Iterator[MonitorStore]:
    """The session's database, migrated, with no alerts."""
    upgrade(postgres_url)
    store = MonitorStore(postgres_url)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE alerts, validation_runs"))
    yield store
    store.close()


async def _read_alerts(bootstrap: str, topic: str) -> list[AlertEvent]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        return [AlertEvent.model_validate_json(m.value) for ms in batches.values() for m in ms]
    finally:
        await consumer.stop()


def test_empty_answers_fire_their_alert_once(monitor_store: MonitorStore, tmp_path: Path) -> None:
    """Healthy windows raise nothing; 40% empty answers fire the empty-answer alert once;
    recovery resolves it. (By reason: the generator's templated stream is legitimately rejected
    20-45% as near duplicates once the store fills, which a plain reject rate would count.)"""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    env = {"WINNOW_MONITOR_WINDOW_S": "2", "WINNOW_MONITOR_RULES_PATH": str(rules)}
    settings = Settings(
        database_url=monitor_store.engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        topic_partitions=2,
        batch_wait_s=0.1,
    )
    gen = EventGenerator(seed=5, bad_fraction=0.0, duplicate_fraction=0.0, pii_fraction=0.0)
    with Supervisor(settings, log_dir=tmp_path / "logs", extra_env=env) as sup:
        assert sup.broker is not None
        port = free_port()
        log = open(tmp_path / "logs" / "monitor.log", "ab")  # noqa: SIM115
        monitor = subprocess.Popen(
            [sys.executable, "-m", "winnow.monitor"],
            env={**sup.env, "WINNOW_WEB_PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            sup.wait_ready()
            run = settings.model_copy(
                update={"kafka_bootstrap": sup.broker.bootstrap, "kafka_idempotence": False}
            )
            layout = TopicLayout.from_settings(run)
            time.sleep(6)  # the monitor imports GE and joins its group

            def phase(seconds: int, empty_share: float) -> None:
                for _ in range(seconds * 2):
                    records = []
                    for i, r in enumerate(gen.records(15)):
                        if i < 15 * empty_share:
                            doc = ticket_event("Where is my order?", "", tenant="acme")
                            records.append((layout.source("tickets"), None, as_bytes(doc)))
                        else:
                            records.append((layout.source(r.source), None, r.value))
                    asyncio.run(produce(run, records))
                    time.sleep(0.5)
                    sup.poll()

            phase(10, 0.0)
            healthy = monitor_store.alerts()
            phase(10, 0.4)
            phase(12, 0.0)
            time.sleep(6)
            alerts = asyncio.run(_read_alerts(sup.broker.bootstrap, layout.alerts))
        finally:
            monitor.terminate()
            monitor.wait(timeout=30)
            log.close()
    assert healthy == [], f"healthy stream raised {healthy}; logs in {tmp_path / 'logs'}"
    assert [(a.rule, a.status) for a in alerts] == [
        ("empty_answers", "firing"),
        ("empty_answers", "resolved"),
    ], f"logs in {tmp_path / 'logs'}"
    assert alerts[0].id == alerts[1].id
    stored = monitor_store.alerts()
    assert [(a.rule, a.status) for a in stored] == [("empty_answers", "resolved")]
    assert os.path.exists(tmp_path / "logs" / "monitor.log")
