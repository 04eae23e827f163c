"""Erasure end to end on a real (SQLite) store: a person's examples, rejections and dead letters
go, other people's stay, the erasure is logged and the snapshots that held them are marked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from winnow.cli.main import app
from winnow.events import DeadLetter
from winnow.example import Decision, Example
from winnow.pii.sealing import DlqSealer, new_key
from winnow.reasons import DeadLetterReason, DropReason
from winnow.settings import get_settings
from winnow.stages.decode import Coordinates, dead_letter
from winnow.stages.validate import validate_record
from winnow.store.erase import ERASURES, SNAPSHOTS, SUBJECTS
from winnow.store.migrate import upgrade
from winnow.store.store import DEAD_LETTERS as DLQ
from winnow.store.store import EXAMPLES, ExampleStore, make_engine
from winnow.store.store import REJECTIONS as REJ
from winnow.testing.fixtures import as_bytes, ticket_event

KEY = b"erasure-test-subject-key"
PRIYA = (
    "Hi, this is Priya Raman, my email is priya.raman@example.com and my number is "
    "+1 415 555 0100. Where is my refund?"
)


def _examples(question: str, answer: str, offset: int) -> list[Example]:
    out = validate_record(
        as_bytes(ticket_event(question, answer)),
        Coordinates("winnow.src.tickets", 0, offset),
        max_bytes=100_000,
        subject_key=KEY,
    )
    assert isinstance(out, list)
    return out


def _decided(ex: Example, accepted: bool) -> Example:
    decision = (
        Decision(status="accepted")
        if accepted
        else Decision(status="rejected", reasons=[DropReason.LOW_REWARD])
    )
    return ex.model_copy(update={"decision": decision})


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    monkeypatch.setenv("WINNOW_DATABASE_URL", url)
    monkeypatch.setenv("WINNOW_PII_SUBJECT_KEY", KEY.decode())
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _letter() -> DeadLetter:
    raw = b'{"not json": "priya.raman@example.com asked for a refund"'
    letter = dead_letter(
        raw,
        Coordinates("winnow.src.tickets", 0, 9),
        DeadLetterReason.INVALID_JSON,
        "bad",
        stage="validator",
    )
    return DlqSealer.from_text(new_key()).seal(letter, KEY)


def test_erase_by_email_removes_only_that_person(db: str) -> None:
    [priya_ok] = _examples(PRIYA, "Thanks Priya, the refund was sent today.", 1)
    [priya_low] = _examples(PRIYA + " Also, hello?", "ok", 2)
    [other] = _examples(
        "Hi, I am Tom Baker, tom.baker@example.org. Where is my parcel?",
        "Your parcel arrives tomorrow, Tom.",
        3,
    )
    assert any(s.startswith("email:") for s in priya_ok.subjects)
    assert "priya" not in priya_ok.model_dump_json().lower()
    store = ExampleStore(db)
    store.write_decisions(
        [_decided(priya_ok, True), _decided(priya_low, False), _decided(other, True)]
    )
    store.record_dead_letters([_letter()])
    with store.engine.begin() as conn:  # a snapshot exported after both examples were stored
        conn.execute(
            SNAPSHOTS.insert().values(
                id="snap-1",
                tenant=other.tenant,
                domain=None,
                domains=[],
                purpose="export",
                format="jsonl",
                counts={},
                examples=2,
                tokens=10,
                watermark=datetime.now(UTC) + timedelta(seconds=1),
                manifest={},
                path="/x",
                created_at=datetime.now(UTC),
            )
        )
    store.close()

    result = CliRunner().invoke(app, ["erase", "--email", "Priya.Raman@Example.com", "--by", "R-1"])
    assert result.exit_code == 0, result.output
    assert "example 1" in result.output and "rejection 1" in result.output
    assert "dlq 1" in result.output and "snap-1" in result.output

    engine = make_engine(db)
    with engine.connect() as conn:
        examples = list(conn.execute(select(EXAMPLES.c.id)).scalars())
        assert examples == [other.id]
        assert conn.execute(select(REJ.c.id)).all() == []
        assert conn.execute(select(DLQ.c.id)).all() == []
        assert all(
            s not in priya_ok.subjects for s in conn.execute(select(SUBJECTS.c.subject)).scalars()
        )
        [log] = conn.execute(select(ERASURES)).mappings().all()
        assert log["counts"] == {"example": 1, "rejection": 1, "dlq": 1}
        assert log["requested_by"] == "R-1" and "priya" not in str(log).lower()
        assert conn.execute(select(SNAPSHOTS.c.superseded_by)).scalar() == log["id"]
    engine.dispose()


def test_erase_by_phone_in_another_format(db: str) -> None:
    [priya_ok] = _examples(PRIYA, "Thanks, the refund was sent today.", 1)
    store = ExampleStore(db)
    store.write_decisions([_decided(priya_ok, True)])
    store.close()
    result = CliRunner().invoke(app, ["erase", "--phone", "(415) 555-0100"])
    assert result.exit_code == 0 and "example 1" in result.output, result.output


def test_erase_needs_the_key_and_a_person(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    nobody = runner.invoke(app, ["erase"])
    assert nobody.exit_code != 0 and "--email" in nobody.output
    monkeypatch.delenv("WINNOW_PII_SUBJECT_KEY")
    get_settings.cache_clear()
    keyless = runner.invoke(app, ["erase", "--email", "a@b.c"])
    assert keyless.exit_code != 0 and "WINNOW_PII_SUBJECT_KEY" in keyless.output
