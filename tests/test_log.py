"""Logs: human lines on a terminal, JSON lines for machines, as `WINNOW_LOG_FORMAT` says."""

from __future__ import annotations

import io
import json
import sys

import pytest
import structlog

from winnow.log import configure_logging, console_logs
from winnow.settings import Settings


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("fmt", "tty", "console"),
    [("auto", True, True), ("auto", False, False), ("json", True, False), ("console", False, True)],
)
def test_format_choice(monkeypatch: pytest.MonkeyPatch, fmt: str, tty: bool, console: bool) -> None:
    """`auto` follows whether stderr is a terminal; explicit formats win."""
    monkeypatch.setattr(sys, "stderr", _Tty() if tty else io.StringIO())
    assert console_logs(Settings(log_format=fmt)) is console  # type: ignore[arg-type]


def test_auto_writes_json_to_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a terminal (a log file, a container): one JSON object per line."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    configure_logging(Settings())
    structlog.get_logger("t").info("service_started", service="validator")
    structlog.reset_defaults()
    assert json.loads(err.getvalue().splitlines()[-1])["event"] == "service_started"
