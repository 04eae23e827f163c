"""Per-domain reward quantiles: where a reward sits among the rewards of its domain.

A reward of 0.4 can be a poor refund answer and a good small-talk one: domains differ in how
well they are answered and in how the reward model scores them. The scorer turns each reward
into ``reward_quantile``, its rank (0-1) in a reference distribution of the same domain, read
from ``models/reward/quantiles.json`` (built by ``winnow models reward-quantiles`` from scored
examples or a store). A quantile bound (``WINNOW_REWARD_MIN_QUANTILE``) drops the same share of
every domain; the dashboard's ``reward_quantile`` histogram is flat when the stream looks like
the reference, and its drift (``score:reward_quantile`` PSI) says when it stops looking so.

A table belongs to one reward model (its version string): rewards from another model are not
ranked, since their scale differs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from winnow.scoring.exceptions import ScoringError

QUANTILES_FILE = "quantiles.json"
ALL = "*"
"""The table of every domain together: used for domains with too few reference rewards."""
LEVELS = tuple(round(i / 100, 2) for i in range(101))


@dataclass(frozen=True)
class RewardQuantiles:
    """Reference reward values at :data:`LEVELS`, per domain, for one reward model."""

    model: str
    tables: dict[str, list[float]]
    counts: dict[str, int]
    source: str = ""

    def quantile(self, reward: float, domain: str | None) -> float:
        """The share of the domain's reference rewards below ``reward`` (0-1, interpolated)."""
        table = np.asarray(self.tables.get(domain or ALL) or self.tables[ALL])
        left = int(np.searchsorted(table, reward, "left"))
        right = int(np.searchsorted(table, reward, "right"))
        if right - left > 1:
            # A tie (many reference rewards at this value): the middle of the tied levels.
            return (LEVELS[left] + LEVELS[right - 1]) / 2
        return float(np.interp(reward, table, LEVELS, left=0.0, right=1.0))

    def to_json(self) -> str:
        """The file's content."""
        doc = {
            "model": self.model,
            "source": self.source,
            "levels": list(LEVELS),
            "counts": self.counts,
            "tables": {k: [round(v, 6) for v in t] for k, t in self.tables.items()},
        }
        return json.dumps(doc, indent=1, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> RewardQuantiles | None:
        """The table in ``path``, or None when there is none; a malformed file raises."""
        if not path.is_file():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            tables = {str(k): [float(x) for x in v] for k, v in doc["tables"].items()}
            if list(doc["levels"]) != list(LEVELS) or ALL not in tables:
                raise ValueError("levels or the all-domains table do not match")
            if any(len(t) != len(LEVELS) for t in tables.values()):
                raise ValueError("a table has the wrong length")
            return cls(
                model=str(doc["model"]),
                tables=tables,
                counts={str(k): int(v) for k, v in doc.get("counts", {}).items()},
                source=str(doc.get("source", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ScoringError(f"reward quantile table {path} is malformed: {exc}") from exc


def build_quantiles(
    rows: Iterable[tuple[str | None, float]], model: str, min_per_domain: int = 50, source: str = ""
) -> RewardQuantiles:
    """Quantile tables from ``(domain, reward)`` rows; small domains use the all-domains table."""
    by_domain: dict[str, list[float]] = {}
    every: list[float] = []
    for domain, reward in rows:
        every.append(reward)
        by_domain.setdefault(domain or "other", []).append(reward)
    if len(every) < min_per_domain:
        raise ValueError(
            f"{len(every)} rewards are too few for a quantile table (need {min_per_domain})"
        )
    tables = {ALL: [float(x) for x in np.quantile(every, LEVELS)]}
    counts = {ALL: len(every)}
    for domain, values in sorted(by_domain.items()):
        if len(values) >= min_per_domain:
            tables[domain] = [float(x) for x in np.quantile(values, LEVELS)]
            counts[domain] = len(values)
    return RewardQuantiles(model=model, tables=tables, counts=counts, source=source)
