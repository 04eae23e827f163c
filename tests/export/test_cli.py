"""``winnow export`` on the command line: flags, files, manifest and the store record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from winnow.export.cli import export
from winnow.export.validate import check_dpo
from winnow.settings import get_settings
from winnow.store import ExampleStore
from winnow.store.queries import snapshots

from .seedlib import corpus, jsonl, seed


@pytest.fixture
def app(store: ExampleStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """A one-command app pointed at the test store, as cli.py will register it."""
    monkeypatch.setenv("WINNOW_DATABASE_URL", store.url)
    monkeypatch.setenv("WINNOW_EXPORT_TOKENIZER", "chars")
    get_settings.cache_clear()
    cli = typer.Typer()
    cli.command("export")(export)
    cli.command("noop")(lambda: None)  # two commands, so "export" is a real sub-command
    yield cli
    get_settings.cache_clear()


def test_export_command(app: typer.Typer, store: ExampleStore, tmp_path: Path) -> None:
    """The flags select tenant, domain, reward and format; the snapshot is written and recorded."""
    seed(store, corpus())
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "export",
            "--tenant",
            "acme",
            "--format",
            "dpo",
            "--domain",
            "billing",
            "--since",
            "2000-01-01T00:00:00",
            "--min-reward",
            "0.5",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["filters"] == {
        "tenant": "acme",
        "domain": "billing",
        "since": "2000-01-01T00:00:00+00:00",
        "min_reward": 0.5,
        "format": "dpo",
    }
    [row] = jsonl(out / "billing" / "dpo.jsonl")
    check_dpo(row)
    assert [s.id for s in snapshots(store, "acme")] == [manifest["snapshot_id"]]
    assert manifest["snapshot_id"] in result.output


def test_tenant_is_required(app: typer.Typer, tmp_path: Path) -> None:
    """Without --tenant the command refuses to run."""
    result = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "out")])
    assert result.exit_code != 0 and not (tmp_path / "out").exists()
