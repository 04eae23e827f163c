"""The ``X-API-Key`` check: key, scope, then the key's rate limit; every refusal is counted."""

from __future__ import annotations

import math
from collections.abc import Callable

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from winnow.gateway.keys import ApiKey, KeyStore, Scope
from winnow.gateway.metrics import AUTH_FAILURES
from winnow.gateway.ratelimit import RateLimiter

API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from `winnow keys create` (`wnw_<id>_<secret>`).",
)


def _refuse(status: int, reason: str, detail: str, headers: dict[str, str] | None = None) -> None:
    AUTH_FAILURES.labels(reason).inc()
    raise HTTPException(status, detail, headers=headers)


def require(scope: Scope) -> Callable[..., ApiKey]:
    """A dependency that returns the request's key or refuses with 401, 403 or 429."""

    def dependency(request: Request, key: str | None = Security(API_KEY_HEADER)) -> ApiKey:
        keys: KeyStore = request.app.state.keys
        limiter: RateLimiter = request.app.state.limiter
        if not key:
            _refuse(401, "missing", "missing API key", {"WWW-Authenticate": "ApiKey"})
        found = keys.verify(key or "")
        if found is None:
            _refuse(401, "invalid", "invalid or revoked API key", {"WWW-Authenticate": "ApiKey"})
        assert found is not None
        if scope not in found.scopes:
            _refuse(403, "scope", f"this key lacks the {scope.value!r} scope")
        allowed, retry_s = limiter.allow(found.id)
        if not allowed:
            _refuse(
                429, "rate_limited", "rate limit exceeded", {"Retry-After": str(math.ceil(retry_s))}
            )
        request.state.key_id = found.id
        return found

    return dependency


def check_tenant(key: ApiKey, tenant: str | None) -> str:
    """The tenant a request acts for: the key's; asking for another one is refused with 403."""
    if tenant is not None and tenant != key.tenant:
        _refuse(403, "tenant", "this key belongs to another tenant")
    return key.tenant
