"""Client commands find the embedded broker through the state file `winnow up` writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from winnow.kafka.discovery import clear_state, client_settings, read_state, state_path, write_state
from winnow.settings import Settings


def test_recorded_broker_is_used_without_idempotence(tmp_path: Path) -> None:
    """No bootstrap set: the recorded one, idempotence off, the recorded store."""
    write_state(tmp_path, "127.0.0.1:40001", "sqlite:///x.db")
    settings = client_settings(Settings(data_dir=tmp_path))
    assert settings.kafka_bootstrap == "127.0.0.1:40001"
    assert settings.kafka_idempotence is False
    assert settings.database_url == "sqlite:///x.db"
    assert state_path(tmp_path).stat().st_mode & 0o077 == 0  # the URL may hold a password


def test_an_explicit_bootstrap_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WINNOW_KAFKA_BOOTSTRAP set to another address: the state file is ignored."""
    write_state(tmp_path, "127.0.0.1:40001")
    monkeypatch.setenv("WINNOW_KAFKA_BOOTSTRAP", "kafka:9092")
    settings = client_settings(Settings(data_dir=tmp_path))
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.kafka_idempotence is True


def test_a_dead_owner_or_no_file_means_no_state(tmp_path: Path) -> None:
    """A state file left by a killed `up` is ignored; clear_state removes only its own file."""
    assert read_state(tmp_path) is None
    path = write_state(tmp_path, "127.0.0.1:40001")
    path.write_text(path.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))
    assert read_state(tmp_path) is None
    assert client_settings(Settings(data_dir=tmp_path)).kafka_bootstrap == "127.0.0.1:9092"
    clear_state(tmp_path)
    assert path.exists()  # not ours
    write_state(tmp_path, "127.0.0.1:40001")
    clear_state(tmp_path)
    assert not path.exists()
