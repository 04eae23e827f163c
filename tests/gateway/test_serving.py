"""Serving limits on a real uvicorn: slow headers and bodies get 408, the concurrency cap 503.

The adversarial run held 50 slow-header and 50 slow-body connections for 20 s without the server
closing any, and each client that hung up mid-body logged an error-level traceback.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

import httpx
import pytest
from tests.gateway.serve import Served

from winnow.settings import Settings
from winnow.testing.fixtures import ticket_event


def _connect(served: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 10 s pass)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def strict(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings with short serving deadlines, and overrides."""
    return lambda **kw: make_settings(
        **{"gateway_header_timeout_s": 0.5, "gateway_body_timeout_s": 0.5, **kw}
    )


def test_slow_headers_get_408_and_are_closed(strict: Callable[..., Settings]) -> None:
    """Connections whose headers never finish are answered 408 and closed by the server."""
    with Served(strict()) as served:
        socks = [_connect(served) for _ in range(20)]
        for sock in socks:
            sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
        answers = [_read_all(sock) for sock in socks]
        for sock in socks:
            sock.close()
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), answers[:2]
    assert b"headers not received in time" in answers[0]


def test_second_request_headers_are_timed_too(strict: Callable[..., Settings]) -> None:
    """On a keep-alive connection, the next request's headers have a deadline as well."""
    with Served(strict(gateway_keep_alive_s=30)) as served:
        sock = _connect(served)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        first = sock.recv(65536)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: ")
        rest = _read_all(sock)
        sock.close()
    assert first.startswith(b"HTTP/1.1 200 ")
    # The first body may arrive with the second answer; what matters: a 408 after the 200.
    assert (first + rest).index(b"HTTP/1.1 408 ") > (first + rest).index(b'"service":"gateway"')


def test_slow_body_gets_408(
    strict: Callable[..., Settings], make_key: Callable[..., str], tenant: str
) -> None:
    """A body that stops arriving is answered 408 with the setting named, then closed."""
    key = make_key(tenant, "ingest")
    with Served(strict()) as served:
        socks = [_connect(served) for _ in range(10)]
        for sock in socks:
            sock.sendall(
                b"POST /v1/events HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\nX-API-Key: " + key.encode() + b'\r\n\r\n{"id":'
            )
        answers = [_read_all(sock) for sock in socks]
        for sock in socks:
            sock.close()
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"body not received within 0.5 s" in answer


def test_concurrency_cap_answers_503(
    strict: Callable[..., Settings], make_key: Callable[..., str], tenant: str
) -> None:
    """Past `gateway_limit_concurrency` open connections, a new request is refused (503)."""
    with Served(strict(gateway_header_timeout_s=30, gateway_limit_concurrency=3)) as served:
        held = [_connect(served) for _ in range(3)]
        for sock in held:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: ")
        time.sleep(0.2)  # let the server accept them
        refused = httpx.get(f"{served.base}/healthz", timeout=10)
        for sock in held:
            sock.close()
        time.sleep(0.2)
        after = httpx.get(f"{served.base}/healthz", timeout=10)
    assert refused.status_code == 503
    assert after.status_code == 200


def test_client_disconnect_mid_body_is_not_an_error(
    strict: Callable[..., Settings],
    make_key: Callable[..., str],
    tenant: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client hanging up mid-body leaves no error-level log line (it was a traceback)."""
    key = make_key(tenant, "ingest")
    body = ticket_event("Where is my order?", "It ships tomorrow.", tenant=tenant)
    with caplog.at_level(logging.DEBUG), Served(strict(gateway_body_timeout_s=30)) as served:
        for _ in range(5):
            sock = _connect(served)
            sock.sendall(
                b"POST /v1/events HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                b"Content-Length: 5000\r\nX-API-Key: "
                + key.encode()
                + b"\r\n\r\n"
                + str(body)[:50].encode()
            )
            time.sleep(0.1)
            sock.close()
        time.sleep(0.5)
        assert httpx.get(f"{served.base}/healthz").status_code == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
