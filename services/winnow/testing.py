"""Helpers for testing Winnow and rules built on it: a throwaway PostgreSQL database, events.

Used by Winnow's own test suite; public so users can test their own filters and deployments
against the same real components.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


def shared_data_dir() -> Path:
    """The datasets folder ``../shared/data`` beside the repository (or ``$WINNOW_SHARED_DATA``).

    Read in place, never copied: developers and CI have it beside their checkout.
    """
    env = os.environ.get("WINNOW_SHARED_DATA")
    if env:
        return Path(env)
    beside_repo = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return beside_repo if beside_repo.exists() else Path("../shared/data").resolve()
