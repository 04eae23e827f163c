"""The monitor dashboard's access rule, against a real key store (SQLite, migrated)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from winnow.agents.monitor import dashboard_guard
from winnow.gateway.keys import KeyStore, Scope
from winnow.monitor.access import COOKIE, DashboardGuard, presented_key
from winnow.settings import Settings
from winnow.store.migrate import upgrade
from winnow.store.store import make_engine

PEPPER = "dashboard-test-pepper"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'winnow.db'}"
    upgrade(url)
    return url


@pytest.fixture
def keys(db: str) -> Iterator[KeyStore]:
    engine = make_engine(db)
    yield KeyStore(engine, PEPPER.encode())
    engine.dispose()


def _settings(db: str, tmp_path: Path, **kw: object) -> Settings:
    return Settings(database_url=db, data_dir=tmp_path, **kw)  # type: ignore[arg-type]


def test_read_key_is_let_in_others_are_not(db: str, keys: KeyStore, tmp_path: Path) -> None:
    """Only an active key with the read scope opens the dashboard; no key, a wrong one, an
    ingest-only one and a revoked one do not."""
    guard = dashboard_guard(_settings(db, tmp_path, api_key_pepper=SecretStr(PEPPER)))
    _, reader = keys.create("acme", frozenset({Scope.READ}))
    _, ingester = keys.create("acme", frozenset({Scope.INGEST}))
    revoked, revoked_text = keys.create("acme", frozenset({Scope.READ}))
    keys.revoke(revoked.id)
    assert guard.allowed(reader)
    assert not guard.allowed(None)
    assert not guard.allowed(reader[:-2] + "xx")
    assert not guard.allowed(ingester)
    assert not guard.allowed(revoked_text)


def test_key_checked_with_another_pepper_fails(db: str, keys: KeyStore, tmp_path: Path) -> None:
    """The monitor verifies with the server pepper: a different one verifies nothing."""
    _, reader = keys.create("acme", frozenset({Scope.READ}))
    guard = dashboard_guard(_settings(db, tmp_path, api_key_pepper=SecretStr("other")))
    assert not guard.allowed(reader)


def test_no_pepper_closes_the_dashboard(db: str, keys: KeyStore, tmp_path: Path) -> None:
    """Outside development a closed dashboard without a pepper refuses every key."""
    _, reader = keys.create("acme", frozenset({Scope.READ}))
    guard = dashboard_guard(_settings(db, tmp_path))
    assert guard.verify is None and not guard.allowed(reader)


def test_open_setting_serves_anyone(db: str, tmp_path: Path) -> None:
    """WINNOW_MONITOR_DASHBOARD_OPEN (default off) lets requests in without a key."""
    assert Settings().monitor_dashboard_open is False
    guard = dashboard_guard(_settings(db, tmp_path, monitor_dashboard_open=True))
    assert guard.allowed(None)


def test_verified_key_is_remembered_for_a_minute() -> None:
    """Refreshes within a minute do not hit the store again; after it they do."""
    calls: list[str] = []

    def verify(key: str) -> object:
        calls.append(key)
        from datetime import UTC, datetime

        from winnow.gateway.keys import ApiKey

        return ApiKey("id", "t", frozenset({Scope.READ}), None, datetime.now(UTC), None)

    guard = DashboardGuard(open=False, verify=verify)  # type: ignore[arg-type]
    assert guard.allowed("k", now=0.0) and guard.allowed("k", now=30.0)
    assert calls == ["k"]
    assert guard.allowed("k", now=61.0) and calls == ["k", "k"]


@pytest.mark.parametrize(
    ("headers", "cookies", "expected"),
    [
        ({"Authorization": "Bearer wk_a_b"}, {}, "wk_a_b"),
        ({"X-API-Key": "wk_c_d"}, {}, "wk_c_d"),
        ({}, {COOKIE: "wk_e_f"}, "wk_e_f"),
        ({"Authorization": "Basic zzz"}, {}, None),
        ({}, {}, None),
    ],
)
def test_presented_key(headers: dict[str, str], cookies: dict[str, str], expected: str) -> None:
    """A key is read from a bearer header, an X-API-Key header or the dashboard cookie."""
    assert presented_key(headers, cookies) == expected
