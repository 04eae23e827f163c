"""``winnow models train router|reward``: fit the heads on MiniLM embeddings, write ONNX + card.

Embeddings come from the same int8 CPU embedder the scorer runs, so a head sees at training time
exactly the vectors it will see in production. They are cached under ``<data_dir>/cache`` keyed
by embedder version and texts, so re-training is quick.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import structlog

from winnow.scoring.artefacts import head_path, load_manifest
from winnow.scoring.build import conversations as cv
from winnow.scoring.build import datasets as ds
from winnow.scoring.build.cards import render_reward_card, render_router_card
from winnow.scoring.build.mlp import MLP, softmax, train_classifier, train_pairwise
from winnow.scoring.build.onnx_heads import reward_features, write_reward, write_router
from winnow.scoring.embedder import Embedder
from winnow.scoring.heads import OTHER
from winnow.scoring.runtime import CPU, SessionConfig

F = npt.NDArray[np.float32]


def _log() -> structlog.typing.FilteringBoundLogger:
    # A fresh proxy per call: a module-level one caches whatever stream logging was configured
    # with on first use (with ``cache_logger_on_first_use``), e.g. a test runner's closed stderr.
    return structlog.get_logger(__name__)  # type: ignore[no-any-return]


@dataclass
class TrainContext:
    """Where models, data and the embedding cache are."""

    models_dir: Path
    data_root: Path
    cache_dir: Path
    out_dir: Path | None = None
    _embedder: Embedder | None = field(default=None, repr=False)

    @property
    def heads_out(self) -> Path:
        """Folder the head and its card are written to (``models/heads`` unless redirected)."""
        return self.out_dir or head_path(self.models_dir, "x").parent

    def embedder(self) -> Embedder:
        """The int8 CPU embedder, opened once."""
        if self._embedder is None:
            self._embedder = Embedder.load(
                self.models_dir, SessionConfig(providers=[CPU]), precision="int8", batch_max=64
            )
        return self._embedder

    def embed(self, texts: list[str]) -> F:
        """Embeddings of ``texts``, from the cache when this exact list was embedded before."""
        emb = self.embedder()
        key = hashlib.sha256(emb.version.encode())
        for t in texts:
            key.update(t.encode("utf-8") + b"\x00")
        path = self.cache_dir / f"emb-{key.hexdigest()[:24]}.npy"
        if path.is_file():
            return np.asarray(np.load(path), dtype=np.float32)
        started = time.monotonic()
        vectors = emb.embed(texts).vectors
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        _log().info("embedded", texts=len(texts), seconds=round(time.monotonic() - started, 1))
        return vectors


def _provenance(ctx: TrainContext) -> dict[str, str]:
    manifest = load_manifest(ctx.models_dir)
    return {
        "embedder": f"{manifest.source_package}=={manifest.source_version}",
        "embedder_weights_sha256": manifest.weights_sha256,
        "embedder_training_precision": "int8",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# --- Router ------------------------------------------------------------------------------------


def calibrate(probs: F, y: npt.NDArray[np.int64], other: int) -> tuple[float, dict[str, float]]:
    """Pick the confidence threshold that balances in-scope accuracy and OOS rejection.

    Validation texts are as clean as the training data, so many thresholds score within noise
    of the best; we take the lowest of those, because real tickets are less confident than
    templated utterances and a high threshold would send them to ``other``.
    """
    top, conf = probs.argmax(axis=1), probs.max(axis=1)
    inscope = y != other
    results: list[tuple[float, float, dict[str, float]]] = []
    for t in np.round(np.arange(0.20, 0.96, 0.01), 2):
        pred = np.where((conf >= t) & (top != other), top, other)
        acc_in = float((pred[inscope] == y[inscope]).mean()) if inscope.any() else 0.0
        acc_oos = float((pred[~inscope] == other).mean()) if (~inscope).any() else 1.0
        results.append(
            (
                (acc_in + acc_oos) / 2,
                float(t),
                {"in_scope_accuracy": acc_in, "oos_rejection": acc_oos},
            )
        )
    best = max(score for score, _, _ in results)
    _, threshold, metrics = min((r for r in results if r[0] >= best - 0.005), key=lambda r: r[1])
    return threshold, metrics


def _conversation_rows(ctx: TrainContext) -> tuple[list[ds.Labelled], list[ds.Labelled]]:
    """STAR/MultiDoGO issue statements with mapped labels: (train split, calibration split).

    The report split is never read here: ``winnow models eval-tickets --split report`` measures
    the router on it.
    """
    train = [ds.Labelled(t, lab) for t, lab in cv.routing_rows(ctx.data_root, "train")]
    calibration = [ds.Labelled(t, lab) for t, lab in cv.routing_rows(ctx.data_root, "calibration")]
    return train, calibration


def _router_rows(
    ctx: TrainContext,
    data_csv: Path | None,
    tickets: Path | None,
    category_map: dict[str, str] | None,
) -> tuple[list[ds.Labelled], str, list[str], list[str], list[ds.Labelled], list[ds.Labelled]]:
    """Labelled rows, their source, out-of-scope texts and conversation rows for the router."""
    conv_train: list[ds.Labelled] = []
    conv_cal: list[ds.Labelled] = []
    if data_csv is None:
        rows, source = ds.bitext(ctx.data_root), "default"
        other_train = ds.clinc(ctx.data_root, 20, "train") + ds.noise(300, seed=0)
        other_val = ds.clinc(ctx.data_root, 10, "val") + ds.noise(100, seed=1)
        conv_train, conv_cal = _conversation_rows(ctx)
    else:
        rows, source = ds.labelled_csv(data_csv), str(data_csv)
        # A user's taxonomy may overlap CLINC's domains: only its out-of-scope queries teach other.
        other_train = ds.clinc(ctx.data_root, 0, "train") + ds.noise(300, seed=0)
        other_val = ds.clinc(ctx.data_root, 0, "val") + ds.noise(100, seed=1)
    if tickets is not None:
        rows = rows + [
            ds.Labelled(t, lab) for t, lab in cv.producer_rows(tickets, category_map or {})
        ]
    return rows, source, other_train, other_val, conv_train, conv_cal


def train_router(
    ctx: TrainContext,
    data_csv: Path | None = None,
    tickets: Path | None = None,
    category_map: dict[str, str] | None = None,
) -> dict[str, object]:
    """Train the domain router; the default taxonomy unless ``data_csv`` brings one.

    ``tickets``: a JSONL of ticket events whose producer categories ``category_map`` maps to
    labels; their issue statements join the labelled texts (split by a hash of the text).
    """
    started = time.monotonic()
    rows, source, other_train, other_val, conv_train, conv_cal = _router_rows(
        ctx, data_csv, tickets, category_map
    )
    labels = [*sorted({r.label for r in rows} - {OTHER}), OTHER]
    lid = {lab: i for i, lab in enumerate(labels)}
    train = [r for r in rows if not ds.held_out(r.text, 0.15)] + conv_train
    val = [r for r in rows if ds.held_out(r.text, 0.15)] + conv_cal
    x_train = ctx.embed([r.text for r in train] + other_train)
    y_train = np.array([lid[r.label] for r in train] + [lid[OTHER]] * len(other_train), np.int64)
    x_val = ctx.embed([r.text for r in val] + other_val)
    y_val = np.array([lid[r.label] for r in val] + [lid[OTHER]] * len(other_val), np.int64)
    counts = np.bincount(y_train, minlength=len(labels)).astype(np.float32)
    # Balanced class weights: small categories (newsletter, cancel) count as much as account.
    weights = (counts.sum() / (len(labels) * np.maximum(counts, 1))).astype(np.float32)
    mlp = train_classifier(
        x_train, y_train, len(labels), hidden=256, epochs=30, class_weight=weights
    )
    probs = softmax(mlp.forward(x_val)[0])
    other = lid[OTHER]
    threshold, open_set = calibrate(probs, y_val, other)
    inscope = y_val != other
    top = probs.argmax(axis=1)
    closed = probs[:, :other].argmax(axis=1)
    per_class = {
        lab: float((top[y_val == i] == i).mean())
        for i, lab in enumerate(labels)
        if (y_val == i).any()
    }
    metrics: dict[str, object] = {
        "taxonomy": source,
        "labels": labels,
        "train_examples": len(y_train),
        "val_examples": len(y_val),
        "val_in_scope": int(inscope.sum()),
        "val_out_of_scope": int((~inscope).sum()),
        "conversation_train": len(conv_train),
        "conversation_calibration": len(conv_cal),
        "closed_set_accuracy": float((closed[inscope] == y_val[inscope]).mean()),
        "argmax_accuracy": float((top == y_val).mean()),
        "threshold": threshold,
        **open_set,
        "per_class_accuracy": per_class,
        "train_seconds": round(time.monotonic() - started, 1),
    }
    meta = {
        "head": "router",
        "labels": json.dumps(labels),
        "threshold": f"{threshold:.2f}",
        "taxonomy": source,
        "metrics": json.dumps({k: v for k, v in metrics.items() if k != "per_class_accuracy"}),
        **_provenance(ctx),
    }
    out = ctx.heads_out
    write_router(mlp, x_train.shape[1], meta, out / "router.onnx")
    (out / "router.md").write_text(render_router_card(metrics, meta), encoding="utf-8")
    _log().info("router_trained", path=str(out / "router.onnx"), threshold=threshold)
    return metrics


# --- Reward ------------------------------------------------------------------------------------


def _pairwise(mlp: MLP, pc: F, rc: F, pr: F, rr: F) -> npt.NDArray[np.bool_]:
    s_c = mlp.forward(reward_features(pc, rc))[0][:, 0]
    s_r = mlp.forward(reward_features(pr, rr))[0][:, 0]
    return np.asarray(s_c > s_r)


def _length_baseline(pairs: list[ds.Pair]) -> float:
    """Accuracy of "the longer answer wins" (ties count half)."""
    wins = [
        1.0 if len(p.chosen) > len(p.rejected) else 0.5 if len(p.chosen) == len(p.rejected) else 0.0
        for p in pairs
    ]
    return float(np.mean(wins)) if wins else 0.0


def _report(name: str, pairs: list[ds.Pair], correct: npt.NDArray[np.bool_]) -> dict[str, float]:
    longer = np.array([len(p.chosen) > len(p.rejected) for p in pairs])
    return {
        f"{name}_pairs": float(len(pairs)),
        f"{name}_pairwise_accuracy": float(correct.mean()) if len(pairs) else 0.0,
        f"{name}_length_baseline": _length_baseline(pairs),
        f"{name}_accuracy_chosen_longer": float(correct[longer].mean()) if longer.any() else 0.0,
        f"{name}_accuracy_chosen_shorter": float(correct[~longer].mean())
        if (~longer).any()
        else 0.0,
    }


def train_reward(ctx: TrainContext) -> dict[str, object]:
    """Train the reward head pairwise on HH-RLHF and QA-Feedback, length-balanced."""
    started = time.monotonic()
    pairs = ds.hh_rlhf(ctx.data_root) + ds.qa_feedback(ctx.data_root)
    texts = list(dict.fromkeys(t for p in pairs for t in (p.prompt, p.chosen, p.rejected)))
    vec = ctx.embed(texts)
    at = {t: i for i, t in enumerate(texts)}

    def stack(subset: list[ds.Pair]) -> tuple[F, F, F]:
        return (
            vec[[at[p.prompt] for p in subset]],
            vec[[at[p.chosen] for p in subset]],
            vec[[at[p.rejected] for p in subset]],
        )

    train = [p for p in pairs if not ds.held_out(p.prompt)]
    val = [p for p in pairs if ds.held_out(p.prompt)]
    p_t, c_t, r_t = stack(train)
    longer = np.array([len(p.chosen) > len(p.rejected) for p in train])
    # Length control: chosen-longer and chosen-shorter pairs carry equal total weight, so
    # "longer wins" earns nothing and the head must learn something else.
    weights = np.where(longer, 0.5 / max(longer.mean(), 1e-6), 0.5 / max(1 - longer.mean(), 1e-6))
    mlp = train_pairwise(
        reward_features(p_t, c_t),
        reward_features(p_t, r_t),
        sample_weight=weights.astype(np.float32),
        hidden=128,
        # Embeddings carry little preference signal: longer training only memorises the
        # training pairs (25 epochs: 93% train, 53% validation). Three epochs with weight decay
        # give the same validation accuracy with calibrated, not saturated, probabilities.
        epochs=3,
        weight_decay=0.05,
    )
    # Centre the logit on the training responses: reward 0.5 is a typical response.
    scores = mlp.forward(np.concatenate([reward_features(p_t, c_t), reward_features(p_t, r_t)]))[0]
    mlp.b2 = (mlp.b2 - float(scores.mean())).astype(np.float32)
    metrics: dict[str, object] = {
        "train_pairs": len(train),
        **_report("train", train, _pairwise(mlp, p_t, c_t, p_t, r_t)),
    }
    p_v, c_v, r_v = stack(val)
    correct = _pairwise(mlp, p_v, c_v, p_v, r_v)
    metrics.update(_report("val", val, correct))
    for source in sorted({p.source for p in val}):
        mask = np.array([p.source == source for p in val])
        sub = [p for p in val if p.source == source]
        metrics[f"val[{source}]"] = {
            "pairs": len(sub),
            "pairwise_accuracy": float(correct[mask].mean()),
            "length_baseline": _length_baseline(sub),
        }
    metrics["train_seconds"] = round(time.monotonic() - started, 1)
    meta = {
        "head": "reward",
        "features": "concat(response, prompt * response) of unit MiniLM embeddings",
        "metrics": json.dumps({k: v for k, v in metrics.items() if not k.startswith("val[")}),
        **_provenance(ctx),
    }
    out = ctx.heads_out
    write_reward(mlp, vec.shape[1], meta, out / "reward.onnx")
    (out / "reward.md").write_text(render_reward_card(metrics, meta), encoding="utf-8")
    _log().info(
        "reward_trained",
        path=str(out / "reward.onnx"),
        **{k: v for k, v in metrics.items() if k.startswith("val_")},
    )
    return metrics
