"""The ``X-API-Key`` check: key, scope, then the key's rate limit; every refusal is counted.

Failed authentication is limited per client address before the key is looked up, so guessing
keys (each well-formed one costs a database lookup) gets 429 instead of a query per request.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import structlog
from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from winnow.gateway.keys import ApiKey, KeyStore, Scope
from winnow.gateway.metrics import AUTH_FAILURES
from winnow.gateway.ratelimit import RateLimiter

log = structlog.get_logger(__name__)

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
        failures: RateLimiter = request.app.state.auth_failures
        address = request.client.host if request.client else "unknown"
        if (wait_s := failures.exhausted(address)) is not None:
            log.info("gateway_auth_failures_limited", client=address)
            _refuse(
                429,
                "auth_failures",
                "too many failed authentications from this address",
                {"Retry-After": str(math.ceil(wait_s))},
            )
        found = keys.verify(key) if key else None
        if found is None:
            failures.allow(address)
            if not key:
                _refuse(401, "missing", "missing API key", {"WWW-Authenticate": "ApiKey"})
            _refuse(401, "invalid", "invalid or revoked API key", {"WWW-Authenticate": "ApiKey"})
        assert found is not None
        request.state.key_id = found.id
        if scope not in found.scopes:
            _refuse(403, "scope", f"this key lacks the {scope.value!r} scope")
        allowed, retry_s = limiter.allow(found.id)
        request.state.rate_limit = limiter.headers(found.id)
        if not allowed:
            _refuse(
                429,
                "rate_limited",
                "rate limit exceeded",
                {"Retry-After": str(math.ceil(retry_s)), **request.state.rate_limit},
            )
        return found

    return dependency


def check_tenant(key: ApiKey, tenant: str | None) -> str:
    """The tenant a request acts for: the key's; asking for another one is refused with 403."""
    if tenant is not None and tenant != key.tenant:
        _refuse(403, "tenant", "this key belongs to another tenant")
    return key.tenant
