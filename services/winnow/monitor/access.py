"""Who may see the monitor's dashboard: a gateway API key with the ``read`` scope.

The key comes in an ``Authorization: Bearer`` or ``X-API-Key`` header (scripts), or in the
``winnow_key`` cookie (browsers: ``GET /dashboard?key=...`` sets it, HttpOnly and
SameSite=Strict, and redirects to the bare URL so the key leaves the address bar and history).
``WINNOW_MONITOR_DASHBOARD_OPEN=true`` serves the pages to anyone, for a private network only.
Verified keys are remembered for a minute, so the page's refreshes do not each hit the store;
a revoked key stops working within that minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from winnow.gateway.keys import ApiKey, Scope

COOKIE = "winnow_key"
_TTL_S = 60.0


def presented_key(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """The API key a request carries, from its headers or its cookie."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    key = headers.get("X-API-Key") or headers.get("x-api-key")
    return key or cookies.get(COOKIE) or None


@dataclass
class DashboardGuard:
    """Decides dashboard requests; ``verify`` checks a key against the key store."""

    open: bool
    verify: Callable[[str], ApiKey | None] | None
    _cache: dict[str, float] = field(default_factory=dict)

    def allowed(self, key: str | None, now: float | None = None) -> bool:
        """True when the dashboard is open, or ``key`` is an active key with the read scope."""
        if self.open:
            return True
        if not key or self.verify is None:
            return False
        now = time.monotonic() if now is None else now
        if self._cache.get(key, 0.0) > now:
            return True
        found = self.verify(key)
        if found is None or Scope.READ not in found.scopes:
            return False
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[key] = now + _TTL_S
        return True


def cookie_header(key: str) -> str:
    """``Set-Cookie`` value that hands the key to the browser for the dashboard's refreshes."""
    return f"{COOKIE}={key}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=43200"
