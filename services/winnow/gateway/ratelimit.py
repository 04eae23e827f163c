"""Token buckets: one per API key, and one per client address for failed authentication.

In process memory, so each gateway replica limits on its own: with N replicas behind a
load balancer a key may make up to N x ``rate`` requests a second. That is the documented choice
(docs/deploy.md); a cluster-wide limit would need a shared store (Redis) on every request's path.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows ``rate`` requests per second per key, with bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _refill(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        return bucket

    def allow(self, key: str, now: float | None = None) -> tuple[bool, float]:
        """Take one token for ``key``; return (allowed, seconds until the next token)."""
        bucket = self._refill(key, time.monotonic() if now is None else now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True, 0.0
        return False, (1 - bucket.tokens) / self.rate

    def exhausted(self, key: str, now: float | None = None) -> float | None:
        """Seconds until ``key`` has a token again, or None when it has one (takes nothing)."""
        if key not in self._buckets:
            return None
        bucket = self._refill(key, time.monotonic() if now is None else now)
        return None if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def headers(self, key: str, now: float | None = None) -> dict[str, str]:
        """``RateLimit-*`` headers (IETF draft): quota, tokens left, seconds until full."""
        bucket = self._refill(key, time.monotonic() if now is None else now)
        return {
            "RateLimit-Limit": str(self.burst),
            "RateLimit-Remaining": str(max(0, math.floor(bucket.tokens))),
            "RateLimit-Reset": str(math.ceil((self.burst - bucket.tokens) / self.rate)),
        }
