"""Store timeouts: a stuck statement or an unresponsive server fails instead of hanging."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from winnow.agents.curator import is_store_error
from winnow.store import ExampleStore

pytestmark = pytest.mark.integration


def test_statement_timeout_cancels_a_stuck_statement(postgres_url: str) -> None:
    """A statement running past statement_timeout_s is cancelled, as a retried store error."""
    store = ExampleStore(postgres_url, statement_timeout_s=0.2)
    try:
        with pytest.raises(sa_exc.OperationalError) as caught, store.engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(5)"))
        assert "statement timeout" in str(caught.value.orig)
        assert is_store_error(caught.value)
        store.ping()  # the next statement runs normally
    finally:
        store.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port whose kernel completes TCP handshakes but where nobody ever answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_connect_timeout_fails_a_server_that_never_answers(silent_server: int) -> None:
    """Connecting to a server that accepts but never speaks fails after connect_timeout_s
    (without it libpq would wait forever)."""
    store = ExampleStore(
        f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/winnow", connect_timeout_s=2
    )
    try:
        with pytest.raises(sa_exc.OperationalError) as caught:
            store.ping()
        assert is_store_error(caught.value)
    finally:
        store.close()
