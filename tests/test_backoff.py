"""Jittered exponential back-off: bounded, growing, capped, spread out between replicas."""

from __future__ import annotations

import random

from winnow.backoff import Backoff


def test_waits_stay_under_a_doubling_ceiling_up_to_the_cap() -> None:
    """Each wait lies in [base/2, ceiling]; the ceiling doubles per attempt and stops at max."""
    backoff = Backoff(base_s=0.2, max_s=3.0, rng=random.Random(1))
    ceilings = []
    for _ in range(8):
        ceiling = backoff.ceiling_s
        wait = backoff.next()
        assert 0.1 <= wait <= ceiling
        ceilings.append(ceiling)
    assert ceilings == [0.2, 0.4, 0.8, 1.6, 3.0, 3.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.ceiling_s == 0.2 and backoff.next() <= 0.2


def test_replicas_that_fail_together_do_not_retry_together() -> None:
    """Two loops that start retrying at the same moment drift apart (no lockstep herd)."""
    a, b = Backoff(rng=random.Random(1)), Backoff(rng=random.Random(2))
    waits_a = [a.next() for _ in range(6)]
    waits_b = [b.next() for _ in range(6)]
    assert all(x != y for x, y in zip(waits_a, waits_b, strict=True))
    assert abs(sum(waits_a) - sum(waits_b)) > 0.1
