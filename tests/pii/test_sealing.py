"""Dead letters at rest: sealed with the DLQ key (envelope encryption), or redacted without it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from winnow.cli.main import app
from winnow.errors import ConfigurationError
from winnow.events import DeadLetter
from winnow.pii.sealing import DlqSealer, SealError, is_redacted, is_sealed, new_key, parse_key
from winnow.reasons import DeadLetterReason
from winnow.settings import get_settings
from winnow.stages.decode import Coordinates, dead_letter
from winnow.store.deadletters import list_dead_letters, purge_dead_letters
from winnow.store.migrate import upgrade
from winnow.store.store import ExampleStore, make_engine

TICKET = (
    b'{"broken": "my name is Priya Raman, card 4111 1111 1111 1111, PIN is 4421, '
    b'mail priya@example.com"'
)
SECRETS = ("Priya", "Raman", "4111 1111 1111 1111", "4421", "priya@example.com")


def _letter(raw: bytes = TICKET, offset: int = 1) -> DeadLetter:
    return dead_letter(
        raw,
        Coordinates("winnow.src.tickets", 0, offset),
        DeadLetterReason.INVALID_JSON,
        "not JSON",
        stage="validator",
    )


def test_sealed_letter_holds_no_plaintext_and_opens_with_the_key() -> None:
    """The envelope hides every value; the key opens it back to the exact bytes."""
    sealer = DlqSealer.from_text(new_key())
    letter = sealer.seal(_letter())
    assert is_sealed(letter.original)
    wire = letter.model_dump_json().encode()
    for value in SECRETS:
        assert value.encode() not in letter.original and value.encode() not in wire
    assert sealer.open(letter.original, letter.id) == TICKET
    assert sealer.seal(letter) == letter  # sealing twice changes nothing


def test_wrong_key_and_moved_envelope_do_not_open() -> None:
    """Another key cannot open it, and an envelope copied onto another letter fails its check."""
    sealer = DlqSealer.from_text(new_key())
    letter = sealer.seal(_letter())
    with pytest.raises(SealError, match="another key"):
        DlqSealer.from_text(new_key()).open(letter.original, letter.id)
    with pytest.raises(SealError, match="does not open"):
        sealer.open(letter.original, _letter(offset=2).id)
    with pytest.raises(SealError, match="WINNOW_DLQ_KEY"):
        DlqSealer(None).open(letter.original, letter.id)


def test_without_a_key_the_letter_keeps_a_redacted_copy() -> None:
    """No key: nothing unredacted is kept (names and the PIN included)."""
    letter = DlqSealer(None).seal(_letter())
    assert is_redacted(letter.original)
    for value in SECRETS:
        assert value.encode() not in letter.original
    assert b"<CARD>" in letter.original and b"<EMAIL>" in letter.original


@pytest.mark.parametrize("bad", ["short", "", "!!!!"])
def test_bad_key_names_the_fix(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="winnow dlq keygen"):
        parse_key(bad or "x")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    monkeypatch.setenv("WINNOW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_dlq_show_decrypt_and_purge(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`winnow dlq show` lists sealed letters without their content; --decrypt with the key
    prints the original; without the key it refuses; `purge` deletes the expired ones."""
    key = new_key()
    sealer = DlqSealer.from_text(key)
    old = sealer.seal(_letter(offset=7)).model_copy(
        update={"failed_at": datetime.now(UTC) - timedelta(days=30)}
    )
    store = ExampleStore(db)
    store.record_dead_letters([sealer.seal(_letter()), old])
    store.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["dlq", "show"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("sealed") == 2 and "Priya" not in listed.output
    refused = runner.invoke(app, ["dlq", "show", "--decrypt"])
    assert refused.exit_code != 0 and "WINNOW_DLQ_KEY" in refused.output
    monkeypatch.setenv("WINNOW_DLQ_KEY", key)
    get_settings.cache_clear()
    opened = runner.invoke(app, ["dlq", "show", "--decrypt"])
    assert opened.exit_code == 0 and opened.output.count("Priya Raman") == 2
    purged = runner.invoke(app, ["dlq", "purge"])  # default retention: 14 days
    assert "1 dead letters" in purged.output
    engine = make_engine(db)
    assert [r["id"] for r in list_dead_letters(engine)] == [_letter().id]
    assert purge_dead_letters(engine, datetime.now(UTC) + timedelta(seconds=1)) == 1
    engine.dispose()
    json.dumps(listed.output)  # plain text, no bytes
