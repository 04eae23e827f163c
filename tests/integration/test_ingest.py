"""`winnow ingest` backfills a JSONL file into the source topics of a real broker."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from typer.testing import CliRunner

from winnow.cli.main import app
from winnow.demo.generator import EventGenerator
from winnow.kafka.broker import TansuBroker

pytestmark = pytest.mark.integration


async def _drain(bootstrap: str, topics: list[str], expected: int) -> Counter[str]:
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    seen: Counter[str] = Counter()
    try:
        async with asyncio.timeout(30):
            while sum(seen.values()) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for tp, records in batch.items():
                    seen[tp.topic] += len(records)
    finally:
        await consumer.stop()
    return seen


def test_ingest_routes_each_line_by_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every line reaches its event type's source topic; malformed lines go to the first one."""
    records = list(EventGenerator(seed=9, bad_fraction=0.1).records(80))
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(r.value + b"\n" for r in records))
    expected: Counter[str] = Counter()
    for r in records:
        try:
            kind = json.loads(r.value).get("type")
        except ValueError:
            kind = None
        src = {
            "winnow.support_ticket.v1": "tickets",
            "winnow.chat_feedback.v1": "feedback",
            "winnow.synthetic_example.v1": "synthetic",
        }.get(kind, "tickets")
        expected[f"winnow.sources.{src}"] += 1
    with TansuBroker() as broker:
        monkeypatch.setenv("WINNOW_KAFKA_BOOTSTRAP", broker.bootstrap)
        monkeypatch.setenv("WINNOW_KAFKA_IDEMPOTENCE", "false")
        from winnow.settings import get_settings

        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["ingest", str(path)])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert "produced 80 records" in result.output
        seen = asyncio.run(_drain(broker.bootstrap, sorted(expected), 80))
    assert seen == expected
