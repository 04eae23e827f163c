"""structlog set-up: JSON lines (or console lines on a terminal) with a timestamp and level; no raw
customer text is ever logged."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from winnow.pii.redact import redact_pii
from winnow.settings import Settings


def _stderr_logger(*_: object) -> structlog.PrintLogger:
    # Looked up per logger: whatever sys.stderr is now.
    return structlog.PrintLogger(sys.stderr)


def configure_logging(settings: Settings) -> None:
    """Route structlog and the standard library (faust, aiokafka) through one JSON renderer."""
    level = getattr(logging, settings.log_level.upper())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer()
        if console_logs(settings)
        else structlog.processors.JSONRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Last line of defence: no log line carries an e-mail, card number or secret.
        redact_log_event,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        # Not cached: a cached logger keeps the stderr of its first use, which test runners
        # (typer's CliRunner) swap and close.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Library chatter (faust, aiokafka) at warning unless we debug.
    root.setLevel(level if level <= logging.DEBUG else logging.WARNING)


def console_logs(settings: Settings) -> bool:
    """Human-readable lines: asked for, or ``auto`` with stderr on a terminal."""
    if settings.log_format == "auto":
        return sys.stderr.isatty()
    return settings.log_format == "console"


def redact_log_event(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: redact PII in every string value of a log event before rendering."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = redact_pii(value).text
    return event_dict
