"""Calibrating the router on a split it never trained on, and measuring it on a third.

Three steps, each on its own data: the head is fitted on the train split; a temperature (so the
probabilities mean what they say) and the ``other`` threshold are chosen on the calibration
split; every reported figure comes from the report split. The threshold is set to a target
in-scope false-reject rate (the share of in-scope calibration texts sent to ``other``), which
needs no out-of-scope data and so does not tune the threshold to the out-of-scope set that is
reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from winnow.scoring.build.mlp import softmax

F = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
RULE = "in_scope_mass"
"""The router's rule: ``other`` when ``1 - p(other)`` is under the threshold (see RouterHead)."""


def fit_temperature(logits: F, y: I64) -> float:
    """The temperature in [0.5, 5] that minimises the negative log-likelihood of ``y``."""
    best_nll, best_t = np.inf, 1.0
    for t in np.round(np.arange(0.5, 5.001, 0.05), 2):
        p = softmax((logits / t).astype(np.float32))
        nll = float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())
        if nll < best_nll:
            best_nll, best_t = nll, float(t)
    return best_t


def in_scope_score(probs: F) -> F:
    """``1 - p(other)`` (``other`` is the last column): how sure the text is in scope."""
    return np.asarray(1.0 - probs[:, -1], dtype=np.float32)


def threshold_for_false_reject(probs: F, y: I64, target: float) -> float:
    """The highest threshold that sends at most ``target`` of the in-scope texts to ``other``.

    In-scope texts whose most probable class is ``other`` are rejected whatever the threshold:
    they use up the budget first, and the threshold may reject only what is left of it.
    """
    other = probs.shape[1] - 1
    inscope = probs[y != other]
    if len(inscope) == 0:
        raise ValueError("no in-scope calibration texts")
    forced = inscope.argmax(axis=1) == other
    scores = np.sort(in_scope_score(inscope[~forced]).astype(np.float64))
    if len(scores) == 0:
        return 1.0
    # Texts with a score strictly under the threshold are rejected: the k-th smallest score is
    # the threshold that rejects exactly the k texts below it.
    k = max(int(np.floor(target * len(inscope))) - int(forced.sum()), 0)
    return float(scores[min(k, len(scores) - 1)])


def route(probs: F, threshold: float) -> I64:
    """Predicted class per row under the in-scope-mass rule (``other`` is the last index).

    ``other`` when it is the most probable class or the in-scope mass is under the threshold;
    otherwise the most probable in-scope class.
    """
    other = probs.shape[1] - 1
    top = probs[:, :other].argmax(axis=1)
    keep = (in_scope_score(probs) >= threshold) & (probs.argmax(axis=1) != other)
    return np.asarray(np.where(keep, top, other), dtype=np.int64)


def open_set_metrics(probs: F, y: I64, threshold: float) -> dict[str, float]:
    """In-scope accuracy with the threshold, false rejects, out-of-scope rejection, closed set."""
    other = probs.shape[1] - 1
    pred = route(probs, threshold)
    inscope = y != other
    out: dict[str, float] = {}
    if inscope.any():
        closed = probs[inscope, :other].argmax(axis=1)
        out["closed_set_accuracy"] = float((closed == y[inscope]).mean())
        out["in_scope_accuracy"] = float((pred[inscope] == y[inscope]).mean())
        out["in_scope_false_reject"] = float((pred[inscope] == other).mean())
    if (~inscope).any():
        out["oos_rejection"] = float((pred[~inscope] == other).mean())
    return out


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a proportion ``p`` measured on ``n`` items."""
    if n == 0:
        return 0.0, 1.0
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


@dataclass(frozen=True)
class Reliability:
    """Confidence bins of the top class: mean confidence vs accuracy, and the ECE."""

    edges: list[float]
    counts: list[int]
    confidence: list[float]
    accuracy: list[float]
    ece: float


def reliability(probs: F, y: I64, bins: int = 10) -> Reliability:
    """Reliability of the top-class probability (``other`` included) over equal-width bins."""
    conf = probs.max(axis=1)
    hit = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    counts, mean_conf, acc = [], [], []
    ece = 0.0
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        counts.append(n)
        mean_conf.append(float(conf[mask].mean()) if n else 0.0)
        acc.append(float(hit[mask].mean()) if n else 0.0)
        ece += n / max(len(y), 1) * abs(acc[-1] - mean_conf[-1])
    return Reliability([float(e) for e in edges], counts, mean_conf, acc, float(ece))


def plot_reliability(before: Reliability, after: Reliability, title: str, path: Path) -> Path:
    """Write a reliability diagram (before and after temperature scaling) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfect")
    for rel, name, colour in (
        (before, "raw", "#d08770"),
        (after, "temperature-scaled", "#3b6ea5"),
    ):
        pts = [
            (c, a) for c, a, n in zip(rel.confidence, rel.accuracy, rel.counts, strict=True) if n
        ]
        ax.plot(
            [c for c, _ in pts],
            [a for _, a in pts],
            marker="o",
            color=colour,
            label=f"{name} (ECE {rel.ece:.3f})",
        )
    ax.set_xlabel("top-class probability (bin mean)")
    ax.set_ylabel("accuracy in bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
