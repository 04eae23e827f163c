"""Drift: population stability index of a window's histograms against a reference window.

PSI = sum over bins of (a - e) * ln(a / e), with ``e`` and ``a`` the reference and current
shares of each bin. An empty bin would make the log infinite, so every share is floored at
``EPSILON`` (1e-4, i.e. 0.01 %) before the sum; shares are not renormalised afterwards (the
floor changes PSI by well under 0.01 for realistic bin counts). Rules of thumb: below 0.1 no
shift, 0.1-0.25 a moderate shift, above 0.25 a significant one.

The reference is either ``pinned`` (the first ``reference_windows`` windows with enough data,
then frozen) or ``rolling`` (the ``reference_windows`` windows before the current one).

Drift is measured on the curated examples only (what training gets), from the window's rows (at
most ``WINNOW_MONITOR_GE_MAX_ROWS`` of them: past that, a sample). Rejections have their own
by-reason rules: counting them here would turn every rejection spike (40 % empty answers) into a
score drift as well, and one fault would fire two alerts.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Literal

from winnow.monitor.window import LENGTH_EDGES, SCORE_EDGES, Outcome, WindowSummary, bin_index

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


def histograms(
    summary: WindowSummary, outcome: Outcome | None = "curated"
) -> tuple[Histograms, int]:
    """The drift histograms of one window and how many examples they hold.

    ``outcome`` picks the examples (from the window's rows); ``None`` takes every example from
    the summary's exact histograms.
    """
    if outcome is None:
        out: Histograms = {f"score:{n}": list(h["*"]) for n, h in summary.score_hist.items()}
        out["length"] = list(summary.length_hist)
        out["domain_mix"] = dict(summary.domains)
        return out, summary.examples
    rows = [r for r in summary.rows if r.get("outcome") == outcome]
    scores: dict[str, list[float]] = {}
    length = [0.0] * (len(LENGTH_EDGES) - 1)
    domains: dict[str, float] = {}
    for row in rows:
        for name, edges in SCORE_EDGES.items():
            value = row.get(f"score_{name}")
            if isinstance(value, int | float) and not isinstance(value, bool):
                hist = scores.setdefault(f"score:{name}", [0.0] * (len(edges) - 1))
                hist[bin_index(float(value), edges)] += 1
        chars = row.get("answer_chars")
        if isinstance(chars, int):
            length[bin_index(chars, LENGTH_EDGES)] += 1
        domain = str(row.get("domain") or "none")
        domains[domain] = domains.get(domain, 0) + 1
    out = dict(scores)
    out["length"] = length
    out["domain_mix"] = domains
    return out, len(rows)


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
        outcome: Outcome | None = "curated",
    ) -> None:
        self.mode = mode
        self.outcome = outcome
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
        current, examples = histograms(summary, self.outcome)
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
        if examples >= self.min_samples:
            if self.mode == "rolling" or self._pinned is None:
                self._history.append(current)
            if self.mode == "pinned" and len(self._history) >= self.reference_windows:
                self._pinned = self._pinned or self.reference()
        return out
