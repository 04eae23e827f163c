"""API keys: created once, stored only as a salted and peppered hash, checked in constant time.

A key reads ``wnw_<id>_<secret>``: the id (12 hex characters) finds the row, the secret (32 random
bytes, URL-safe base64) is what is hashed. The secret is 256 random bits, not a password, so one
HMAC-SHA256 (key: the server pepper, message: salt + secret) is as strong as a slow KDF against
guessing while costing microseconds per request. Comparison uses ``hmac.compare_digest``, and an
unknown id is hashed against a dummy row so a miss costs the same time as a hit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Table, select, update

from winnow.events import TENANT_MAX_CHARS, TENANT_PATTERN
from winnow.gateway.exceptions import ApiKeyError
from winnow.store.tables import ApiKeyRow

API_KEYS: Table = ApiKeyRow.__table__  # type: ignore[attr-defined]

PREFIX = "wnw"
_ID_HEX = 12
_DUMMY_SALT = b"\0" * 16


class Scope(StrEnum):
    """What a key may do."""

    INGEST = "ingest"
    """``POST /v1/events``."""
    EXPORT = "export"
    """``GET /v1/export``."""
    READ = "read"
    """``GET /v1/examples`` and ``GET /v1/stats`` (dashboards)."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key's public facts (never the secret or its hash)."""

    id: str
    tenant: str
    scopes: frozenset[Scope]
    name: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """False once revoked."""
        return self.revoked_at is None


def parse_scopes(text: str) -> frozenset[Scope]:
    """``"ingest,export"`` -> scopes; raises ``ApiKeyError`` on an unknown one."""
    names = [p.strip() for p in text.split(",") if p.strip()]
    try:
        scopes = frozenset(Scope(n) for n in names)
    except ValueError as exc:
        raise ApiKeyError(
            f"unknown scope in {text!r}; choose from {[s.value for s in Scope]}"
        ) from exc
    if not scopes:
        raise ApiKeyError("a key needs at least one scope")
    return scopes


def check_tenant_name(tenant: str) -> str:
    """``tenant`` when an event could carry it (the event ``Tenant`` rule); else ``ApiKeyError``."""
    if len(tenant) > TENANT_MAX_CHARS or not re.fullmatch(TENANT_PATTERN, tenant):
        raise ApiKeyError(
            f"tenant {tenant[:80]!r} is not a tenant events can carry: use 1-{TENANT_MAX_CHARS} "
            "letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return tenant


def _hash(pepper: bytes, salt: bytes, secret: str) -> bytes:
    return hmac.new(pepper, salt + secret.encode(), hashlib.sha256).digest()


def _split(key: str) -> tuple[str, str] | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != _ID_HEX or not parts[2]:
        return None
    if not all(c in "0123456789abcdef" for c in parts[1]):
        return None
    return parts[1], parts[2]


def _row(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant=row["tenant"],
        scopes=frozenset(Scope(s) for s in row["scopes"]),
        name=row["name"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


class KeyStore:
    """API keys in the store's ``api_keys`` table."""

    def __init__(self, engine: Engine, pepper: bytes) -> None:
        self.engine = engine
        self._pepper = pepper

    def create(
        self, tenant: str, scopes: frozenset[Scope], name: str | None = None
    ) -> tuple[ApiKey, str]:
        """Store a new key; return it and the full key text, which is never available again."""
        check_tenant_name(tenant)
        key_id = secrets.token_hex(_ID_HEX // 2)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        now = datetime.now(UTC)
        values = {
            "id": key_id,
            "tenant": tenant,
            "scopes": sorted(s.value for s in scopes),
            "salt": salt,
            "secret_hash": _hash(self._pepper, salt, secret),
            "name": name,
            "created_at": now,
            "revoked_at": None,
        }
        with self.engine.begin() as conn:
            conn.execute(API_KEYS.insert().values(values))
        return _row(values), f"{PREFIX}_{key_id}_{secret}"

    def verify(self, key: str) -> ApiKey | None:
        """The active key matching ``key``; None for a malformed, unknown, wrong or revoked one."""
        parts = _split(key)
        key_id, secret = parts if parts is not None else ("", key)
        row = None
        if parts is not None:
            with self.engine.connect() as conn:
                row = (
                    conn.execute(select(API_KEYS).where(API_KEYS.c.id == key_id)).mappings().first()
                )
        salt = row["salt"] if row is not None else _DUMMY_SALT
        expected = row["secret_hash"] if row is not None else b"\0" * 32
        ok = hmac.compare_digest(_hash(self._pepper, salt, secret), expected)
        if row is None or not ok or row["revoked_at"] is not None:
            return None
        return _row(row)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by id (idempotent); raises ``ApiKeyError`` when there is none."""
        with self.engine.begin() as conn:
            conn.execute(
                update(API_KEYS)
                .where(API_KEYS.c.id == key_id, API_KEYS.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            row = conn.execute(select(API_KEYS).where(API_KEYS.c.id == key_id)).mappings().first()
        if row is None:
            raise ApiKeyError(f"no API key with id {key_id!r}")
        return _row(row)

    def list(self, tenant: str | None = None) -> list[ApiKey]:
        """Keys (revoked ones included), optionally of one tenant, oldest first."""
        stmt = select(API_KEYS).order_by(API_KEYS.c.created_at, API_KEYS.c.id)
        if tenant is not None:
            stmt = stmt.where(API_KEYS.c.tenant == tenant)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(stmt).mappings()]
