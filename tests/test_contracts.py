"""Checked-in contracts match the code: JSON Schemas, the settings table, the topic layout."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from winnow.cli.main import app
from winnow.cli.schemas import render_schemas, stale_schemas
from winnow.cli.settings_doc import doc_is_current
from winnow.settings import Settings
from winnow.testing.fixtures import feedback_event, synthetic_event, ticket_event
from winnow.topics import TopicLayout

ROOT = Path(__file__).resolve().parents[1]


class TestSchemas:
    def test_checked_in_schemas_match_models(self) -> None:
        """`winnow schemas export` has been run for the current models."""
        assert stale_schemas(ROOT / "schemas") == []

    def test_drift_is_detected(self, tmp_path: Path) -> None:
        """A schema file that differs from the model is reported stale."""
        for name, text in render_schemas().items():
            (tmp_path / name).write_text(text)
        (tmp_path / "winnow.support_ticket.v1.json").write_text("{}")
        assert stale_schemas(tmp_path) == ["winnow.support_ticket.v1.json"]

    def test_sample_events_validate_against_exported_schemas(self) -> None:
        """Events built by winnow.testing.fixtures satisfy the JSON Schemas producers will use."""
        for name, doc in [
            ("winnow.support_ticket.v1.json", ticket_event("q", "a")),
            (
                "winnow.chat_feedback.v1.json",
                feedback_event("q", "a", thumb="down", correction="b"),
            ),
            ("winnow.synthetic_example.v1.json", synthetic_event("q", "a")),
        ]:
            schema = json.loads((ROOT / "schemas" / name).read_text())
            jsonschema.validate(doc, schema)


class TestSettingsDoc:
    def test_configuration_table_is_current(self) -> None:
        """docs/configuration.md lists every setting with its current default."""
        assert doc_is_current(ROOT / "docs" / "configuration.md")

    def test_every_setting_is_documented(self) -> None:
        """Each settings field has a description (the table's only source)."""
        missing = [n for n, f in Settings.model_fields.items() if not f.description]
        assert missing == []


class TestCli:
    def test_check_commands_pass_on_the_repo(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The CI checks for schema and settings drift pass on the checked-in files."""
        monkeypatch.chdir(ROOT)  # the commands' defaults are relative to the repository root
        runner = CliRunner()
        assert runner.invoke(app, ["schemas", "export", "--check"]).exit_code == 0
        assert runner.invoke(app, ["settings", "doc", "--check"]).exit_code == 0

    def test_topic_layout_names(self) -> None:
        """The layout derives every topic from the prefix, sources first."""
        layout = TopicLayout.from_settings(Settings(topic_prefix="acme"))
        assert layout.all()[:3] == [
            "acme.sources.tickets",
            "acme.sources.feedback",
            "acme.sources.synthetic",
        ]
        assert layout.all()[3:] == [
            "acme.candidates",
            "acme.scored",
            "acme.curated",
            "acme.rejected",
            "acme.dlq",
            "acme.alerts",
            "acme.retrain",
        ]

    def test_generate_writes_one_record_per_line(self, tmp_path: Path) -> None:
        """`winnow generate` writes the requested number of lines, malformed ones included."""
        out = tmp_path / "ev.jsonl"
        result = CliRunner().invoke(
            app, ["generate", "--events", "50", "--bad-fraction", "0.2", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        lines = out.read_bytes().splitlines()
        assert len(lines) == 50
