"""A second terminal finds `winnow up`'s broker: `ingest`, `status --wait`, no address set."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from winnow.demo.generator import EventGenerator
from winnow.testing.fixtures import SAMPLE_DATA_DIR

pytestmark = pytest.mark.integration

ZENDESK = SAMPLE_DATA_DIR / "helpdesk" / "zendesk_tickets.json"


def _winnow(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "winnow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_ingest_and_status_find_the_embedded_broker(tmp_path: Path) -> None:
    """Every produced event is accounted; the state file goes when `up` stops."""
    env = {k: v for k, v in os.environ.items() if k != "WINNOW_KAFKA_BOOTSTRAP"}
    env |= {
        "WINNOW_DATA_DIR": str(tmp_path / "var"),
        "WINNOW_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
    }
    events = tmp_path / "events.jsonl"
    gen = EventGenerator(seed=3, bad_fraction=0.1)
    events.write_bytes(b"".join(r.value.replace(b"\n", b" ") + b"\n" for r in gen.records(60)))
    up = subprocess.Popen(
        [sys.executable, "-m", "winnow", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert up.stdout is not None
        assert "winnow is up" in up.stdout.readline()
        state = json.loads((tmp_path / "var" / "broker.json").read_text())
        ingest = _winnow("ingest", str(events), env=env)
        assert ingest.returncode == 0, ingest.stderr
        assert f"produced 60 records to {state['bootstrap']}" in ingest.stdout
        zendesk = _winnow("ingest", "--from", "zendesk", str(ZENDESK), "--tenant", "acme", env=env)
        assert zendesk.returncode == 0, zendesk.stderr
        assert "produced 3 tickets from zendesk" in zendesk.stdout
        assert "2 dead-lettered" in zendesk.stdout
        generated = _winnow("generate", "--events", "20", "--produce", env=env)
        assert generated.returncode == 0, generated.stderr
        assert f"produced 20 generated records to {state['bootstrap']}" in generated.stdout
        status = _winnow("status", "--wait", "--timeout", "240", "--json", env=env)
        assert status.returncode == 0, status.stderr
        doc = json.loads(status.stdout)
        # The 2 Zendesk records that could not be converted go straight to the DLQ: they count
        # as produced (at import) and as accounted (dead-lettered, source "import").
        assert doc["imported_dead_letters"] == 2
        assert doc["produced_total"] == 85 and doc["accounted_total"] == 85
        imported = [row for row in doc["accounted"] if row["source"] == "import"]
        assert imported == [{**imported[0], "dead_lettered": 2, "tenant": "acme"}]
        assert doc["done"] and sum(doc["lag"].values()) == 0
        assert sum(row["dead_lettered"] for row in doc["accounted"]) >= 1  # the malformed ones
        for result in (ingest, zendesk, generated, status):
            assert "Traceback" not in result.stderr
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(60)
    assert not (tmp_path / "var" / "broker.json").exists()


def test_ingest_without_a_broker_says_what_to_set(tmp_path: Path) -> None:
    """No `winnow up`, nothing listening: one line naming the setting, exit 1, no traceback."""
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "winnow.support_ticket.v1"}\n')
    env = {
        **os.environ,
        "WINNOW_DATA_DIR": str(tmp_path / "var"),
        "WINNOW_KAFKA_BOOTSTRAP": "127.0.0.1:1",
    }
    result = _winnow("ingest", str(events), env=env, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "WINNOW_KAFKA_BOOTSTRAP" in errors[0], result.stderr
