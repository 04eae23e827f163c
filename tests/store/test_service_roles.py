"""Per-service database roles (migration 0008): what the gateway and monitor logins may touch.

The adversarial run found the gateway and the monitor given the curator's full URL, so either
could read `dead_letters.original` (raw, unredacted bytes). Each now logs in with a role of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from winnow.store.migrate import upgrade
from winnow.store.store import make_engine

pytestmark = pytest.mark.integration


def _login(admin: sa.Engine, role: str) -> str:
    name = f"{role}_t{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {name} LOGIN IN ROLE {role}"))
    return name


@pytest.fixture
def as_role(postgres_url: str) -> Iterator[object]:
    """``as_role("winnow_gateway")``: an engine logged in as a fresh member of that role."""
    upgrade(postgres_url)
    admin = make_engine(postgres_url)
    engines: list[sa.Engine] = []
    logins: list[str] = []

    def connect(role: str) -> sa.Engine:
        login = _login(admin, role)
        logins.append(login)
        engines.append(
            make_engine(make_url(postgres_url).set(username=login).render_as_string(False))
        )
        return engines[-1]

    yield connect
    for engine in engines:
        engine.dispose()
    with admin.begin() as conn:
        for login in logins:
            conn.execute(sa.text(f"DROP ROLE {login}"))
    admin.dispose()


def _can(engine: sa.Engine, sql: str) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql))
    except sa.exc.ProgrammingError as exc:
        if "permission denied" not in str(exc):
            raise
        return False
    return True


def test_gateway_role(as_role: object) -> None:
    """The gateway reads keys and examples, claims ids, and cannot see dead letters at all."""
    gw = as_role("winnow_gateway")  # type: ignore[operator]
    assert _can(gw, "SELECT id, tenant FROM api_keys LIMIT 1")
    assert _can(gw, "SELECT id FROM examples LIMIT 1")
    assert _can(gw, "DELETE FROM accepted_events WHERE tenant = 'none'")
    assert not _can(gw, "SELECT count(*) FROM dead_letters")
    assert not _can(gw, "SELECT original FROM dead_letters LIMIT 1")
    assert not _can(gw, "DELETE FROM examples WHERE id = 'none'")
    assert not _can(gw, "INSERT INTO api_keys (id) VALUES ('x')")


def test_monitor_role(as_role: object) -> None:
    """The monitor counts dead letters by reason and time, but cannot read their contents."""
    mon = as_role("winnow_monitor")  # type: ignore[operator]
    assert _can(mon, "SELECT reason, count(*) FROM dead_letters GROUP BY reason")
    assert _can(mon, "SELECT max(failed_at) FROM dead_letters")
    assert _can(mon, "SELECT count(*) FROM rejections")
    assert _can(mon, "DELETE FROM alerts WHERE id = 'none'")
    for column in ("original", "error", "event_id", "tenant"):
        assert not _can(mon, f"SELECT {column} FROM dead_letters LIMIT 1"), column
    assert not _can(mon, "SELECT * FROM api_keys LIMIT 1")
    assert not _can(mon, "DELETE FROM examples WHERE id = 'none'")
