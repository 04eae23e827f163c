"""End to end on the real Tansu broker and the real PostgreSQL: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import s3fs
from sqlalchemy import select
from tests.export.s3lib import load_every_config, readme_header
from tests.integration.helpers import (
    count_rows,
    fresh_store,
    metric,
    produce_records,
    read_topic,
    wait_until,
)

from winnow.agents.supervisor import Supervisor
from winnow.demo.generator import EventGenerator
from winnow.events import DeadLetter, RetrainEvent
from winnow.export.exporter import folder_name
from winnow.pii.redact import find_pii
from winnow.pii.sealing import DlqSealer, new_key
from winnow.settings import Settings
from winnow.stages.decode import Coordinates
from winnow.stages.validate import validate_record
from winnow.store import ExampleStore
from winnow.store.store import EventTally
from winnow.store.tables import DeadLetterRow, ExampleRow, RejectionRow
from winnow.testing.fixtures import as_bytes, feedback_event, ticket_event
from winnow.topics import TopicLayout

pytestmark = pytest.mark.integration


@pytest.fixture
def store(postgres_url: str) -> Iterator[ExampleStore]:
    """The session's PostgreSQL store, migrated and emptied for this test."""
    s = fresh_store(postgres_url)
    yield s
    s.close()


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=url, data_dir=tmp_path, topic_partitions=2, batch_wait_s=0.1)


DLQ_KEY = new_key()
GOOD = "I've refunded the second charge; it will be back on your card within five business days."


def test_mixed_stream_is_fully_accounted(store: ExampleStore, tmp_path: Path, s3: str) -> None:
    """Good, duplicate and malformed events end curated, rejected or in the DLQ as stages say;
    the curator's retrain snapshot lands on the S3 server as a loadable dataset."""
    settings = _settings(store.url, tmp_path)
    known_good = ticket_event("I was charged twice this month, I want my money back.", GOOD)
    known_pref = feedback_event(
        "How do I reset my password?",
        "No idea.",
        thumb="down",
        correction="Use 'Forgot password' on the sign-in page.",
    )
    generated = list(
        EventGenerator(seed=21, bad_fraction=0.15, duplicate_fraction=0.1).records(300)
    )
    records = [
        ("tickets", as_bytes(known_good)),
        ("feedback", as_bytes(known_pref)),
        ("tickets", b"\xff\xfe not utf-8"),
        ("feedback", b'{"truncated": '),
    ]
    records += [(r.source, r.value) for r in generated]
    # The oracle: the same pure stages, without Kafka.
    expected_dlq = 0
    expected_examples = 0
    for i, (_, value) in enumerate(records):
        out = validate_record(value, Coordinates("t", 0, i), max_bytes=settings.max_event_bytes)
        if isinstance(out, DeadLetter):
            expected_dlq += 1
        else:
            expected_examples += len(out)

    # Low retrain thresholds: some domain crosses them during this run.
    retrain_env = {
        "WINNOW_RETRAIN_MIN_EXAMPLES": "15",
        "WINNOW_RETRAIN_MIN_TOKENS": "0",
        "WINNOW_RETRAIN_CHECK_INTERVAL_S": "1",
        # The children reach the S3 server through the standard AWS_* environment (s3 fixture).
        "WINNOW_SNAPSHOT_URL": f"{s3}/snapshots",
        "WINNOW_DLQ_KEY": DLQ_KEY,
    }
    with Supervisor(settings, log_dir=tmp_path / "logs", extra_env=retrain_env) as sup:
        sup.wait_ready()
        produce_records(sup, settings, records)
        tally = EventTally()

        def done() -> bool:
            nonlocal tally
            tally = store.tally()
            return tally.accounted >= len(records)

        wait_until(done, 180, sup)
        assert sup.broker is not None
        retrain_events = asyncio.run(
            read_topic(sup.broker.bootstrap, TopicLayout.from_settings(settings).retrain, 1)
        )
    event = RetrainEvent.model_validate_json(retrain_events[0])
    assert event.type == "winnow.retrain.v1" and event.reason == "min_examples"
    assert event.new_examples >= 15 and sum(event.counts.values()) >= 15
    where = f"{folder_name(event.tenant)}/{folder_name(event.domain)}/{event.snapshot_id}"
    assert event.path == f"{s3}/snapshots/{where}"
    fs = s3fs.S3FileSystem()
    manifest = json.loads(fs.cat_file(f"{event.path}/manifest.json"))
    header = readme_header(fs.cat_file(f"{event.path}/README.md").decode())
    loaded = load_every_config(event.path, header)
    assert sum(loaded.values()) == manifest["counts"]["rows"] > 0

    assert tally.curated + tally.rejected + tally.dlq == len(records)
    assert tally.pending == 0
    assert tally.dlq == expected_dlq == 2 + sum(r.label.startswith("malformed") for r in generated)
    assert tally.examples_curated + tally.examples_rejected == expected_examples
    # Of an event and its planted re-sends, at most one (whichever came first) is curated.
    groups: dict[str, list[str]] = {}
    for r in generated:
        if not r.label.startswith("malformed"):
            doc = json.loads(r.value)
            groups.setdefault(json.dumps([doc["tenant"], doc["data"]]), []).append(doc["id"])
    with store.engine.connect() as conn:
        curated_ids = set(conn.execute(select(ExampleRow.source_event_id)).scalars())
    resent_groups = [ids for ids in groups.values() if len(ids) > 1]
    assert resent_groups
    assert all(len(curated_ids.intersection(ids)) <= 1 for ids in resent_groups)
    with store.engine.connect() as conn:
        row = conn.execute(
            select(ExampleRow).where(ExampleRow.source_event_id == known_good["id"])
        ).one()
        assert row.messages == [
            {"role": "user", "content": "I was charged twice this month, I want my money back."},
            {"role": "assistant", "content": GOOD},
        ]
        assert row.provenance == "human_agent" and row.tenant == "acme"
        assert row.source_topic == "winnow.sources.tickets" and row.source_offset is not None
        assert {"answer_chars", "placeholders"} <= set(row.scores)
        # The ONNX models are built by `make test`: curated rows carry their scores and versions.
        assert {"reward", "relevance", "domain_confidence"} <= set(row.scores)
        assert row.domain == "refund"
        assert {"embedder", "router", "reward"} <= set(row.model_versions)
        why = conn.execute(
            select(RejectionRow.reasons, RejectionRow.kind).where(
                RejectionRow.source_event_id == known_pref["id"]
            )
        ).all()
        assert why == [], why
        pref = conn.execute(
            select(ExampleRow).where(
                ExampleRow.source_event_id == known_pref["id"], ExampleRow.kind == "preference"
            )
        ).one()
        assert pref.chosen.startswith("Use 'Forgot password'") and pref.rejected == "No idea."
        # Dead letters are sealed at rest: the DLQ key opens them back to the exact bytes.
        sealer = DlqSealer.from_text(DLQ_KEY)
        letters = {
            sealer.open(r.original, r.id): r for r in conn.execute(select(DeadLetterRow)).all()
        }
        assert letters[b"\xff\xfe not utf-8"].reason == "invalid_utf8"
        assert letters[b'{"truncated": '].reason == "invalid_json"
        assert letters[b'{"truncated": '].topic == "winnow.sources.feedback"
        # The generator plants e-mails, phones and card numbers: none may reach the store.
        stored_texts = [
            m["content"] for (msgs,) in conn.execute(select(ExampleRow.messages)) for m in msgs
        ] + [
            m["content"]
            for (ex,) in conn.execute(select(RejectionRow.example))
            for m in ex["messages"]
        ]
        assert any("<EMAIL>" in t or "<PHONE>" in t or "<CARD>" in t for t in stored_texts)
        assert [t for t in stored_texts if find_pii(t)] == []
        reasons = {tuple(r) for (r,) in conn.execute(select(RejectionRow.reasons))}
        assert all(reasons), "every rejection has at least one reason"


def test_curator_killed_before_commit_rereads_without_duplicates(
    store: ExampleStore, tmp_path: Path
) -> None:
    """A curator killed -9 before its commit re-reads its input; the store is unchanged."""
    settings = _settings(store.url, tmp_path)
    records = [
        (r.source, r.value) for r in EventGenerator(seed=4, duplicate_fraction=0.1).records(120)
    ]
    # Commit nothing for 10 minutes: the restarted curator must start from the beginning.
    env = {"WINNOW_KAFKA_COMMIT_INTERVAL_S": "600"}
    with Supervisor(settings, log_dir=tmp_path / "logs", extra_env=env) as sup:
        sup.wait_ready()
        produce_records(sup, settings, records)
        wait_until(lambda: store.tally().accounted >= len(records), 180, sup)
        before = store.tally()
        rows = (count_rows(store, ExampleRow), count_rows(store, RejectionRow))
        examples = before.examples_curated + before.examples_rejected
        curator = next(c for c in sup.children if c.name == "curator")
        assert curator.proc is not None
        os.kill(curator.proc.pid, signal.SIGKILL)
        wait_until(lambda: curator.restarts == 1 and sup.ready()["curator"], 60, sup)
        scored = f'service="curator",topic="{TopicLayout.from_settings(settings).scored}"'
        wait_until(
            lambda: metric(curator.port, "winnow_events_in_total", scored) >= examples, 120, sup
        )
        after = store.tally()
    assert (count_rows(store, ExampleRow), count_rows(store, RejectionRow)) == rows
    assert (after.curated, after.rejected, after.dlq, after.pending) == (
        before.curated,
        before.rejected,
        before.dlq,
        0,
    )
    assert after.accounted == len(records)
