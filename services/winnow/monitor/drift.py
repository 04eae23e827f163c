"""Drift: population stability index of a window's histograms against a reference window.

PSI = sum over bins of (a - e) * ln(a / e), with ``e`` and ``a`` the reference and current
shares of each bin. An empty bin would make the log infinite, so every share is floored at
``EPSILON`` (1e-4, i.e. 0.01 %) before the sum; shares are not renormalised afterwards (the
floor changes PSI by well under 0.01 for realistic bin counts). Rules of thumb: below 0.1 no
shift, 0.1-0.25 a moderate shift, above 0.25 a significant one.

The reference is either ``pinned`` (the first ``reference_windows`` windows with enough data,
then frozen) or ``rolling`` (the ``reference_windows`` windows before the current one).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Literal

from winnow.monitor.window import WindowSummary

EPSILON = 1e-4
"""Floor of every bin share before the PSI sum (keeps empty bins finite)."""


def psi(reference: Sequence[float], current: Sequence[float], epsilon: float = EPSILON) -> float:
    """PSI between two histograms (counts or shares) over the same bins."""
    if len(reference) != len(current):
        raise ValueError("histograms need the same bins")
    ref_total, cur_total = float(sum(reference)), float(sum(current))
    if ref_total <= 0 or cur_total <= 0:
        return 0.0
    total = 0.0
    for r, c in zip(reference, current, strict=True):
        e = max(r / ref_total, epsilon)
        a = max(c / cur_total, epsilon)
        total += (a - e) * math.log(a / e)
    return total


def mix_psi(
    reference: Mapping[str, float], current: Mapping[str, float], epsilon: float = EPSILON
) -> float:
    """PSI of two categorical mixes (e.g. examples per domain) over the union of categories."""
    keys = sorted(set(reference) | set(current))
    return psi([reference.get(k, 0) for k in keys], [current.get(k, 0) for k in keys], epsilon)


Histograms = dict[str, dict[str, float] | list[float]]


def _histograms(summary: WindowSummary) -> Histograms:
    out: Histograms = {f"score:{name}": list(h["*"]) for name, h in summary.score_hist.items()}
    out["length"] = list(summary.length_hist)
    out["domain_mix"] = dict(summary.domains)
    return out


def _total(h: dict[str, float] | list[float]) -> float:
    return float(sum(h.values()) if isinstance(h, dict) else sum(h))


def _add(into: Histograms, other: Histograms) -> None:
    for key, h in other.items():
        cur = into.get(key)
        if isinstance(h, dict):
            merged = dict(cur) if isinstance(cur, dict) else {}
            for k, v in h.items():
                merged[k] = merged.get(k, 0) + v
            into[key] = merged
        elif isinstance(cur, list) and len(cur) == len(h):
            into[key] = [a + b for a, b in zip(cur, h, strict=True)]
        else:
            into[key] = list(h)


class DriftDetector:
    """PSI of each window's score, length and domain-mix histograms against a reference."""

    def __init__(
        self,
        mode: Literal["pinned", "rolling"] = "rolling",
        reference_windows: int = 5,
        min_samples: int = 50,
    ) -> None:
        self.mode = mode
        self.reference_windows = reference_windows
        self.min_samples = min_samples
        self._history: deque[Histograms] = deque(maxlen=reference_windows)
        self._pinned: Histograms | None = None

    def reference(self) -> Histograms:
        """The current reference histograms (empty until enough windows were seen)."""
        if self.mode == "pinned":
            if self._pinned is not None:
                return self._pinned
            if len(self._history) < self.reference_windows:
                return {}
        ref: Histograms = {}
        for h in self._history:
            _add(ref, h)
        return ref

    def update(self, summary: WindowSummary) -> dict[str, float]:
        """PSI per metric (``score:<name>``, ``length``, ``domain_mix``) for this window.

        A metric is left out while either side has fewer than ``min_samples`` values; windows
        with too few examples are not added to the reference.
        """
        current = _histograms(summary)
        ref = self.reference()
        out: dict[str, float] = {}
        for key, h in current.items():
            r = ref.get(key)
            if r is None or _total(r) < self.min_samples or _total(h) < self.min_samples:
                continue
            if isinstance(h, dict) and isinstance(r, dict):
                out[key] = mix_psi(r, h)
            elif isinstance(h, list) and isinstance(r, list) and len(h) == len(r):
                out[key] = psi(r, h)
        if summary.examples >= self.min_samples:
            if self.mode == "rolling" or self._pinned is None:
                self._history.append(current)
            if self.mode == "pinned" and len(self._history) >= self.reference_windows:
                self._pinned = self._pinned or self.reference()
        return out
