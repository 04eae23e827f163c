"""Helpers for testing Winnow and rules built on it: a throwaway PostgreSQL database, events.

Used by Winnow's own test suite; public so users can test their own filters and deployments
against the same real components.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_postgres_database(admin_url: str = DEFAULT_ADMIN_URL) -> Iterator[str]:
    """Create an empty database for one test session, yield its URL, drop it afterwards."""
    name = f"winnow_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def envelope(
    type_: str, data: dict[str, Any], *, tenant: str = "acme", id: str | None = None
) -> dict[str, Any]:
    """A source event envelope around ``data``, ready for ``json.dumps``."""
    return {
        "specversion": "1.0",
        "id": id or str(uuid.uuid4()),
        "source": "/tests",
        "type": type_,
        "time": datetime(2026, 11, 1, 12, 0, tzinfo=UTC).isoformat(),
        "tenant": tenant,
        "data": data,
    }


def ticket_event(
    question: str, answer: str, *, status: str = "resolved", **kw: Any
) -> dict[str, Any]:
    """A one-question support ticket event."""
    return envelope(
        "winnow.support_ticket.v1",
        {
            "ticket_id": f"T-{uuid.uuid4().hex[:8]}",
            "channel": "chat",
            "created_at": "2026-11-01T11:00:00+00:00",
            "turns": [
                {"speaker": "customer", "text": question},
                {"speaker": "agent", "text": answer},
            ],
            "status": status,
        },
        **kw,
    )


def feedback_event(
    question: str, response: str, *, thumb: str = "up", correction: str | None = None, **kw: Any
) -> dict[str, Any]:
    """A chat feedback event with a thumbs rating and an optional correction."""
    data: dict[str, Any] = {
        "conversation_id": f"c-{uuid.uuid4().hex[:8]}",
        "model_id": "acme-assistant-7b",
        "messages": [{"role": "user", "content": question}],
        "response": response,
        "rating": {"thumb": thumb},
    }
    if correction is not None:
        data["correction"] = correction
        data["given_by"] = "reviewer"
    return envelope("winnow.chat_feedback.v1", data, **kw)


def synthetic_event(
    prompt: str, response: str, *, model: str = "teacher-70b", **kw: Any
) -> dict[str, Any]:
    """A synthetic (teacher LLM) example event."""
    data = {"generator_model": model, "method": "teacher", "prompt": prompt, "response": response}
    return envelope("winnow.synthetic_example.v1", data, **kw)


def as_bytes(doc: dict[str, Any]) -> bytes:
    """JSON bytes of an event document."""
    return json.dumps(doc).encode()


SAMPLE_DATA_DIR = Path(__file__).resolve().parents[3] / "tests" / "data"
"""The vendored dataset samples (a few hundred real rows each, same layout as the full folder)."""


def full_data_dir() -> Path | None:
    """The full public datasets, or None when this checkout has none.

    ``WINNOW_DATASETS_DIR`` (the setting the training commands read) or ``WINNOW_SHARED_DATA``
    names the folder; without either, ``../shared/data`` beside the repository is used when it
    exists (this workspace's layout). Read in place, never copied.
    """
    for name in ("WINNOW_DATASETS_DIR", "WINNOW_SHARED_DATA"):
        if os.environ.get(name):
            return Path(os.environ[name])
    beside_repo = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return beside_repo if beside_repo.is_dir() else None


def shared_data_dir() -> Path:
    """The best data at hand: the full datasets when present, else the vendored samples."""
    full = full_data_dir()
    return full if full is not None and full.is_dir() else SAMPLE_DATA_DIR


class TcpProxy:
    """A loopback TCP proxy to ``target`` that a test can cut and restore (a network fault).

    ``cut()`` resets every open connection and refuses new ones (accepted, then reset at once)
    until ``restore()``; the server behind it keeps running. Use as a context manager.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open = True
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._stopped = False
        self._acceptor = threading.Thread(target=self._accept, daemon=True, name="tcp-proxy")

    def start(self) -> TcpProxy:
        """Start accepting connections."""
        self._acceptor.start()
        return self

    def url_for(self, url: str) -> str:
        """``url`` (a SQLAlchemy URL of the target) rewritten to go through this proxy."""
        return (
            make_url(url)
            .set(host="127.0.0.1", port=self.port)
            .render_as_string(hide_password=False)
        )

    def cut(self) -> None:
        """Reset every open connection and refuse new ones."""
        with self._lock:
            self._open = False
            conns, self._conns = self._conns, set()
        for conn in conns:
            _reset(conn)

    def restore(self) -> None:
        """Accept and forward connections again."""
        with self._lock:
            self._open = True

    def stop(self) -> None:
        """Close the listener and every connection."""
        self._stopped = True
        self.cut()
        self._listener.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # listener closed
            with self._lock:
                refuse = not self._open
            if refuse:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if not self._open:  # cut while connecting
                    _reset(client)
                    _reset(upstream)
                    continue
                self._conns.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        # One side is done: close both, so the other pump and both peers see it.
        with self._lock:
            self._conns.discard(src)
            self._conns.discard(dst)
        _reset(src)
        _reset(dst)


def _reset(sock: socket.socket) -> None:
    # SO_LINGER 0: close() sends RST, as a dead peer would, not a polite FIN. SHUT_RD first wakes
    # a pump thread blocked in recv() on it, which close() from another thread does not.
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with suppress(OSError):
        sock.close()
