"""Pairwise accuracy of a reward model, sliced the way the model card reports it.

Each slice gets accuracy with a Wilson 95% interval, the length baseline (the longer answer
wins), and accuracy separately on pairs where the chosen answer is longer or shorter, which is
what tells a model that learned length from one that learned quality.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Pair = dict[str, str]
Scores = list[tuple[float, float]]
Slice = dict[str, Any]

GROUPS: dict[str, Callable[[Pair], bool]] = {
    "hh_helpful": lambda p: p["source"].startswith("hh/helpful"),
    "qa": lambda p: p["source"].startswith("qa/"),
    "support": lambda p: p["domain"] == "support",
}


def wilson(k: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes in ``n`` trials."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def _length_delta(pair: Pair) -> int:
    return len(pair["chosen"].strip()) - len(pair["rejected"].strip())


def summarise(pairs: list[Pair], scores: Scores) -> Slice:
    """Accuracy (ties count half), its CI, length baseline, chosen-longer/-shorter accuracy."""
    n = len(pairs)
    correct = base = 0.0
    longer_ok = shorter_ok = 0.0
    n_longer = n_shorter = 0
    for pair, (chosen, rejected) in zip(pairs, scores, strict=True):
        ok = 1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0
        correct += ok
        delta = _length_delta(pair)
        base += 1.0 if delta > 0 else 0.5 if delta == 0 else 0.0
        if delta > 0:
            longer_ok, n_longer = longer_ok + ok, n_longer + 1
        elif delta < 0:
            shorter_ok, n_shorter = shorter_ok + ok, n_shorter + 1
    lo, hi = wilson(correct, n)
    return {
        "n": n,
        "acc": correct / n if n else math.nan,
        "ci95": [lo, hi],
        "length_baseline": base / n if n else math.nan,
        "acc_chosen_longer": longer_ok / n_longer if n_longer else math.nan,
        "n_chosen_longer": n_longer,
        "acc_chosen_shorter": shorter_ok / n_shorter if n_shorter else math.nan,
        "n_chosen_shorter": n_shorter,
    }


def _subset(pairs: list[Pair], scores: Scores, keep: Callable[[Pair], bool]) -> Slice | None:
    rows = [i for i, p in enumerate(pairs) if keep(p)]
    return summarise([pairs[i] for i in rows], [scores[i] for i in rows]) if rows else None


def _where(field: str, value: str) -> Callable[[Pair], bool]:
    return lambda pair: pair.get(field) == value


def evaluate(pairs: list[Pair], scores: Scores) -> dict[str, Any]:
    """Overall, by source, by group (hh_helpful, qa, support) and by support negative kind."""
    result: dict[str, Any] = {
        "overall": summarise(pairs, scores),
        "by_source": {},
        "by_group": {},
        "support_by_kind": {},
    }
    for source in sorted({p["source"] for p in pairs}):
        result["by_source"][source] = _subset(pairs, scores, _where("source", source))
    for group, keep in GROUPS.items():
        found = _subset(pairs, scores, keep)
        if found is not None:
            result["by_group"][group] = found
    support = [p for p in pairs if p["domain"] == "support"]
    support_scores = [s for p, s in zip(pairs, scores, strict=True) if p["domain"] == "support"]
    for kind in sorted({p.get("kind", "") for p in support}):
        result["support_by_kind"][kind] = _subset(support, support_scores, _where("kind", kind))
    return result


def selection_score(ev: dict[str, Any], how: str) -> float:
    """Higher is better; ``acceptance`` is what picks checkpoints and replaces the artefact.

    acceptance: HH-helpful accuracy averaged with its length-balanced accuracy (the mean of the
    chosen-longer and chosen-shorter accuracies), minus any support shortfall below 0.95.
    """
    groups = ev["by_group"]
    if how == "overall" or "hh_helpful" not in groups:
        return float(ev["overall"]["acc"])
    helpful = groups["hh_helpful"]
    if how == "helpful":
        return float(helpful["acc"])
    sides = [
        x
        for x in (helpful["acc_chosen_longer"], helpful["acc_chosen_shorter"])
        if not math.isnan(x)
    ]
    balanced = sum(sides) / len(sides) if sides else helpful["acc"]
    score = 0.5 * helpful["acc"] + 0.5 * balanced
    if "support" in groups:
        score += min(0.0, groups["support"]["acc"] - 0.95)
    return float(score)


def table(ev: dict[str, Any], title: str) -> str:
    """A fixed-width text table of every slice (logs and the CLI)."""
    lines = [
        f"== {title}",
        f"{'slice':24s} {'n':>5s} {'acc':>6s} {'95% CI':>13s} {'len-base':>8s} "
        f"{'ch-long':>7s} {'ch-short':>8s}",
    ]
    rows = [("OVERALL", ev["overall"])]
    rows += [(f"group:{k}", m) for k, m in ev["by_group"].items()]
    rows += list(ev["by_source"].items())
    rows += [(f"support/kind:{k}", m) for k, m in ev["support_by_kind"].items()]
    for name, m in rows:
        lines.append(
            f"{name:24s} {m['n']:5d} {m['acc']:6.3f} [{m['ci95'][0]:.3f},{m['ci95'][1]:.3f}] "
            f"{m['length_baseline']:8.3f} {m['acc_chosen_longer']:7.3f} "
            f"{m['acc_chosen_shorter']:8.3f}"
        )
    return "\n".join(lines)
