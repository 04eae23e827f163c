"""API keys: shown once, stored hashed, revocable, listed; the rate limiter and dedup claims."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from winnow.gateway.cli import keys_app
from winnow.gateway.exceptions import ApiKeyError
from winnow.gateway.idempotency import claim, purge, release
from winnow.gateway.keys import API_KEYS, KeyStore, Scope, parse_scopes
from winnow.gateway.ratelimit import RateLimiter
from winnow.store.store import make_engine


class TestKeyStore:
    """The table holds a salted hash, never the key."""

    def test_only_hash_stored(self, keys: KeyStore, tenant: str) -> None:
        """The row holds neither the key nor its secret, and two keys get different salts."""
        k1, text1 = keys.create(tenant, parse_scopes("ingest"))
        k2, text2 = keys.create(tenant, parse_scopes("ingest"))
        with keys.engine.connect() as conn:
            rows = (
                conn.execute(select(API_KEYS).where(API_KEYS.c.tenant == tenant)).mappings().all()
            )
        blob = repr([dict(r) for r in rows])
        for text in (text1, text2):
            assert text.split("_", 2)[2] not in blob
        assert rows[0]["salt"] != rows[1]["salt"] and len(rows[0]["secret_hash"]) == 32
        assert keys.verify(text1) == k1 and keys.verify(text2) == k2

    def test_pepper_matters(self, keys: KeyStore, tenant: str) -> None:
        """A key checked with another pepper does not verify."""
        _, text = keys.create(tenant, parse_scopes("read"))
        assert KeyStore(keys.engine, b"other pepper").verify(text) is None

    def test_scopes_parsed(self) -> None:
        """Scopes are parsed from a comma list; unknown or empty lists are refused."""
        assert parse_scopes("ingest, read") == {Scope.INGEST, Scope.READ}
        with pytest.raises(ApiKeyError):
            parse_scopes("ingest,admin")
        with pytest.raises(ApiKeyError):
            parse_scopes(" , ")

    def test_tenant_follows_the_event_rule(self, keys: KeyStore) -> None:
        """`create` refuses a tenant no event could match, before touching the table."""
        with pytest.raises(ApiKeyError, match="not a tenant events can carry"):
            keys.create("Bad Tenant <x>", parse_scopes("ingest"))
        with pytest.raises(ApiKeyError, match="1-64"):
            keys.create("t" * 65, parse_scopes("ingest"))
        assert keys.list("Bad Tenant <x>") == []

    def test_revoke_unknown(self, keys: KeyStore) -> None:
        """Revoking a key id that does not exist raises."""
        with pytest.raises(ApiKeyError):
            keys.revoke("ffffffffffff")


def test_cli_create_list_revoke(
    gateway_db: str, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keys create` prints the key once, `list` shows it without the secret, `revoke` ends it."""
    from winnow.settings import get_settings

    monkeypatch.setenv("WINNOW_DATABASE_URL", gateway_db)
    monkeypatch.setenv("WINNOW_API_KEY_PEPPER", "cli-pepper")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(
            keys_app, ["create", "--tenant", tenant, "--scopes", "ingest,export,read"]
        )
        assert created.exit_code == 0, created.output
        key = created.stdout.strip().splitlines()[0]
        assert key.startswith("wnw_")
        key_id, secret = key.split("_", 2)[1:]
        listed = runner.invoke(keys_app, ["list", "--tenant", tenant])
        assert listed.exit_code == 0 and key_id in listed.stdout and secret not in listed.stdout
        assert "export,ingest,read" in listed.stdout
        engine = make_engine(gateway_db)
        try:
            store = KeyStore(engine, b"cli-pepper")
            assert store.verify(key) is not None
            assert runner.invoke(keys_app, ["revoke", key_id]).exit_code == 0
            assert store.verify(key) is None
        finally:
            engine.dispose()
        bad = runner.invoke(keys_app, ["create", "--tenant", tenant, "--scopes", "admin"])
        assert bad.exit_code != 0
        # Tenants no event can carry: one line naming the rule, no traceback, no row.
        for name in ("Bad Tenant <x>", "t" * 65, "-leading-dash"):
            refused = runner.invoke(
                keys_app,
                ["create", "--tenant", name],
                env={"COLUMNS": "300", "TERMINAL_WIDTH": "300"},
            )
            assert refused.exit_code == 2, refused.output
            assert "is not a tenant events can carry" in refused.output
            assert "Traceback" not in refused.output and "salt" not in refused.output
    finally:
        get_settings.cache_clear()


class TestRateLimiter:
    """A token bucket per key."""

    def test_bucket(self) -> None:
        """Burst, refusal with a wait, refill over time, keys apart."""
        rl = RateLimiter(rate=2.0, burst=2)
        assert rl.allow("k", 0.0) == (True, 0.0)
        assert rl.allow("k", 0.0) == (True, 0.0)
        allowed, wait = rl.allow("k", 0.0)
        assert not allowed and wait == pytest.approx(0.5)
        assert rl.allow("other", 0.0)[0]
        assert rl.allow("k", 0.5)[0]


class TestDedupClaims:
    """Claims on (tenant, event id) decide duplicates in the database."""

    def test_claim_release_window(self, gateway_db: str, tenant: str) -> None:
        """A second claim gets nothing; a release or an expired window frees the id."""
        engine = make_engine(gateway_db)
        try:
            got, at = claim(engine, tenant, ["e1", "e2", "e1"], window_s=60)
            assert got == {"e1", "e2"}
            assert claim(engine, tenant, ["e1", "e3"], window_s=60)[0] == {"e3"}
            release(engine, tenant, ["e1"], at)
            assert claim(engine, tenant, ["e1"], window_s=60)[0] == {"e1"}
            time.sleep(0.05)
            assert claim(engine, tenant, ["e2"], window_s=0.01)[0] == {"e2"}
            assert purge(engine, window_s=3600) >= 0
        finally:
            engine.dispose()
