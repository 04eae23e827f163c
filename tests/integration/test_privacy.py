"""A ticket full of personal data through the running services (Tansu + PostgreSQL): the
store, the topics, an export and the logs hold none of it, the DLQ copy is ciphertext, and
`winnow erase` removes the person's rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.helpers import fresh_store, produce_records, read_topic, wait_until

from winnow.agents.supervisor import Supervisor
from winnow.events import DeadLetter
from winnow.export.exporter import export_snapshot
from winnow.export.formats import ExportFormat
from winnow.export.tokens import CharTokenCounter
from winnow.pii.sealing import DlqSealer, is_sealed, new_key
from winnow.settings import Settings
from winnow.store import ExampleStore
from winnow.store.erase import erase, person_subjects
from winnow.store.queries import ExampleQuery
from winnow.store.tables import DeadLetterRow, ExampleRow, RejectionRow
from winnow.testing.fixtures import as_bytes, ticket_event
from winnow.topics import TopicLayout

pytestmark = pytest.mark.integration

SUBJECT_KEY = "integration-subject-key"
DLQ_KEY = new_key()
QUESTION = (
    "Hi, this is Priya Raman. My account ID is B3BLRKKZQQ, email priya.raman@example.com, "
    "phone +1 415 555 0100, and I live at 9756 Primrose Street, Springfield. My card number "
    "is 1356 2467 0987 5678 and my PIN is 4421. I was charged twice this month, please refund."
)
ANSWER = (
    "Thanks, Priya. I have refunded the second charge to the card ending 5678; it will be back "
    "on your card within five business days."
)
VALUES = (
    "Priya",
    "Raman",
    "B3BLRKKZQQ",
    "priya.raman@example.com",
    "415 555 0100",
    "9756 Primrose",
    "1356 2467 0987 5678",
    "4421",
)


@pytest.fixture
def store(postgres_url: str) -> Iterator[ExampleStore]:
    s = fresh_store(postgres_url)
    yield s
    s.close()


def _leaks(blob: bytes | str) -> list[str]:
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [v for v in VALUES if v in text]


def test_personal_data_never_reaches_store_topics_exports_or_logs(
    store: ExampleStore, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=store.url, data_dir=tmp_path, topic_partitions=1, batch_wait_s=0.1
    )
    env = {"WINNOW_DLQ_KEY": DLQ_KEY, "WINNOW_PII_SUBJECT_KEY": SUBJECT_KEY}
    broken = ('{"broken": "' + QUESTION).encode()  # the same text in a malformed record
    records = [("tickets", as_bytes(ticket_event(QUESTION, ANSWER))), ("tickets", broken)]
    logs = tmp_path / "logs"
    with Supervisor(settings, log_dir=logs, extra_env=env) as sup:
        sup.wait_ready()
        produce_records(sup, settings, records)
        wait_until(lambda: store.tally().accounted >= len(records), 180, sup)
        assert sup.broker is not None
        layout = TopicLayout.from_settings(settings)
        topics = {
            name: asyncio.run(read_topic(sup.broker.bootstrap, name, 1))
            for name in (layout.candidates, layout.scored, layout.dlq)
        }
    for name, values in topics.items():
        assert not [_leaks(v) for v in values if _leaks(v)], name
    [letter_bytes] = topics[layout.dlq]
    letter = DeadLetter.model_validate_json(letter_bytes)
    assert is_sealed(letter.original) and letter.subjects
    assert DlqSealer.from_text(DLQ_KEY).open(letter.original, letter.id) == broken

    with store.engine.connect() as conn:
        stored = [str(r) for r in conn.execute(select(ExampleRow)).all()]
        stored += [str(r) for r in conn.execute(select(RejectionRow)).all()]
        stored += [str(r) for r in conn.execute(select(DeadLetterRow)).all()]
    assert stored and not [s for s in stored if _leaks(s)]
    assert "<NAME_1>" in "".join(stored)

    out = tmp_path / "export"
    export_snapshot(
        store, ExampleQuery("acme"), ExportFormat.OPENAI_CHAT, out, counter=CharTokenCounter()
    )
    for path in out.rglob("*"):
        if path.is_file():
            assert not _leaks(path.read_bytes()), path
    for path in logs.rglob("*"):
        if path.is_file():
            assert not _leaks(path.read_bytes()), path

    subjects = person_subjects(SUBJECT_KEY.encode(), emails=["Priya.Raman@example.com"])
    done = erase(store.engine, subjects, "integration")
    assert done.counts["dlq"] == 1 and done.counts["example"] + done.counts["rejection"] == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(ExampleRow.id)).all() == []
        assert conn.execute(select(RejectionRow.id)).all() == []
        assert conn.execute(select(DeadLetterRow.id)).all() == []
