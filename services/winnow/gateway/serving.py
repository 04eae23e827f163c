"""How the gateway is served: uvicorn with deadlines for slow clients and a concurrency cap.

uvicorn has a keep-alive timeout but no deadline for a request's headers, so a client that sends
them a byte at a time (slowloris) held a connection for as long as it liked. ``TimedH11Protocol``
adds one: a request whose headers are not complete ``header_timeout_s`` after the connection
opened (or after the previous response) is answered 408 and closed. The body deadline lives in
the app (``read_body``), where the request is known.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from uvicorn.protocols.http.h11_impl import H11Protocol

from winnow.settings import Settings

log = structlog.get_logger(__name__)


def _timeout_response(detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        f"connection: close\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers (408, then close)."""

    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers."""
        super().connection_made(transport)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_deadline(self) -> None:
        deadline = getattr(self, "_header_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._header_deadline = None

    def handle_events(self) -> None:
        """Parse as uvicorn does; a new request cycle means its headers arrived in time."""
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:
            self._cancel_header_deadline()

    def on_response_complete(self) -> None:
        """The next request on this connection gets its own header deadline."""
        self._arm_header_deadline()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Nothing left to time."""
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served: its body has the app's own deadline
        log.info("gateway_header_timeout", timeout_s=self.header_timeout_s)
        self.transport.write(_timeout_response("request headers not received in time"))
        self.transport.close()


def timed_protocol(header_timeout_s: float) -> type[TimedH11Protocol]:
    """A ``TimedH11Protocol`` class with this header deadline (uvicorn takes a class)."""
    return type("TimedH11Protocol", (TimedH11Protocol,), {"header_timeout_s": header_timeout_s})


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn keyword arguments for the gateway's limits (`WINNOW_GATEWAY_*`)."""
    return {
        "http": timed_protocol(settings.gateway_header_timeout_s),
        "timeout_keep_alive": settings.gateway_keep_alive_s,
        "limit_concurrency": settings.gateway_limit_concurrency,
        "log_config": None,  # the root logger configure_logging set up
        "access_log": False,  # the middleware logs each request without its query string
        "server_header": False,
    }
