"""Jittered exponential back-off, shared by every retry loop in Winnow.

Why jitter: after a broker or database outage every replica's retry timer started at the same
moment; fixed doubling delays (0.2, 0.4, 0.8 s, ...) then bring them all back in lockstep, a
thundering herd against a service that is just recovering. "Full jitter" (a uniform draw below
the exponential ceiling) spreads them out; the mean wait is half the ceiling.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays for one retry loop: ``next()`` before each wait, ``reset()`` after a success."""

    base_s: float = 0.2
    max_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    attempt: int = 0

    @property
    def ceiling_s(self) -> float:
        """The longest the next wait may be: ``base_s * 2**attempt``, at most ``max_s``."""
        return min(self.max_s, self.base_s * 2.0 ** min(self.attempt, 62))

    def next(self) -> float:
        """The next wait in seconds: uniform in [base/2, ceiling], then the ceiling doubles."""
        ceiling = self.ceiling_s
        self.attempt += 1
        # A floor of half the base: never a busy loop, even on an unlucky draw.
        return self.rng.uniform(min(self.base_s / 2, ceiling), ceiling)

    def reset(self) -> None:
        """Start again from ``base_s`` (call after a success)."""
        self.attempt = 0
