"""Several scorer processes behind one port: they share the work, the parent answers probes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from winnow.kafka.admin import ensure_topics
from winnow.kafka.broker import TansuBroker, free_port
from winnow.kafka.produce import produce
from winnow.settings import Settings
from winnow.stages.decode import Coordinates
from winnow.stages.validate import validate_record
from winnow.testing.fixtures import as_bytes, ticket_event
from winnow.topics import TopicLayout

pytestmark = pytest.mark.integration
SCORED_IN = r'^winnow_events_in_total\{service="scorer",topic="winnow.candidates"\} (\S+)$'


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def test_two_scorer_workers_share_one_port(tmp_path: Path) -> None:
    """Both workers join the group; /readyz covers them and /metrics sums their counts."""
    with TansuBroker() as broker:
        port = free_port()
        env = {
            **os.environ,
            "WINNOW_KAFKA_BOOTSTRAP": broker.bootstrap,
            "WINNOW_KAFKA_IDEMPOTENCE": "false",
            "WINNOW_KAFKA_SESSION_TIMEOUT_S": "6",
            "WINNOW_KAFKA_HEARTBEAT_S": "0.5",
            "WINNOW_KAFKA_REBALANCE_TIMEOUT_S": "6",
            "WINNOW_SCORER_WORKERS": "2",
            "WINNOW_WEB_PORT": str(port),
            "WINNOW_DATA_DIR": str(tmp_path),
            "WINNOW_TOPIC_PARTITIONS": "2",
        }
        settings = Settings(
            kafka_bootstrap=broker.bootstrap, kafka_idempotence=False, topic_partitions=2
        )
        asyncio.run(ensure_topics(settings))
        proc = subprocess.Popen([sys.executable, "-m", "winnow", "serve", "scorer"], env=env)
        try:
            deadline = time.monotonic() + 90
            while _get(f"http://127.0.0.1:{port}/readyz")[0] != 200:
                assert time.monotonic() < deadline, "worker group never ready"
                assert proc.poll() is None
                time.sleep(0.5)
            examples = []
            for i in range(40):
                doc = ticket_event(
                    f"Question number {i} about my order?", f"Answer {i}: it ships today."
                )
                examples += validate_record(as_bytes(doc), Coordinates(), max_bytes=100_000)  # type: ignore[arg-type]
            topic = TopicLayout.from_settings(settings).candidates
            records = [(topic, e.id.encode(), e.model_dump_json().encode()) for e in examples]
            asyncio.run(produce(settings, records))
            total = 0.0
            deadline = time.monotonic() + 60
            while total < 40:
                assert time.monotonic() < deadline, f"scored {total} of 40"
                body = _get(f"http://127.0.0.1:{port}/metrics")[1]
                total = sum(
                    float(v)
                    for v in re.findall(
                        SCORED_IN,
                        body,
                        re.M,
                    )
                )
                time.sleep(0.5)
            assert total == 40
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        assert proc.returncode is not None
        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 0  # nothing listens any more
