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
from winnow.scoring.build import router_calibration as rc
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


@dataclass
class RouterData:
    """The router's texts and labels, split three ways (train / calibration / report)."""

    labels: list[str]
    source: str
    train: list[ds.Labelled]
    calibration: list[ds.Labelled]
    report: list[ds.Labelled]
    other_train: list[str]
    other_report: list[str]
    clinc_oos_report: list[str]
    conversations: tuple[int, int] = (0, 0)


def _router_data(
    ctx: TrainContext,
    data_csv: Path | None,
    tickets: Path | None,
    category_map: dict[str, str] | None,
) -> RouterData:
    """Labelled rows split by a hash of the text, out-of-scope texts, conversation rows.

    Out-of-scope texts serve training (CLINC150 ``train``/``oos_train``, noise) and reporting
    (CLINC150 ``val``/``oos_val``, other noise); calibration needs in-scope texts only. The
    STAR/MultiDoGO report split is never read here: ``winnow models eval-tickets --split
    report`` measures the router on it.
    """
    conv_train: list[ds.Labelled] = []
    conv_cal: list[ds.Labelled] = []
    if data_csv is None:
        rows, source = ds.bitext(ctx.data_root), "default"
        other_train = ds.clinc(ctx.data_root, 20, "train") + ds.noise(300, seed=0)
        other_report = ds.clinc(ctx.data_root, 10, "val") + ds.noise(100, seed=1)
        conv_train = [ds.Labelled(t, lab) for t, lab in cv.routing_rows(ctx.data_root, "train")]
        conv_cal = [ds.Labelled(t, lab) for t, lab in cv.routing_rows(ctx.data_root, "calibration")]
    else:
        rows, source = ds.labelled_csv(data_csv), str(data_csv)
        # A user's taxonomy may overlap CLINC's domains: only its out-of-scope queries teach other.
        other_train = ds.clinc(ctx.data_root, 0, "train") + ds.noise(300, seed=0)
        other_report = ds.clinc(ctx.data_root, 0, "val") + ds.noise(100, seed=1)
    if tickets is not None:
        rows = rows + [
            ds.Labelled(t, lab) for t, lab in cv.producer_rows(tickets, category_map or {})
        ]
    split = {r.text: ds.split_of(r.text) for r in rows}
    return RouterData(
        labels=[*sorted({r.label for r in rows} - {OTHER}), OTHER],
        source=source,
        train=[r for r in rows if split[r.text] == "train"] + conv_train,
        calibration=[r for r in rows if split[r.text] == "calibration"] + conv_cal,
        report=[r for r in rows if split[r.text] == "report"],
        other_train=other_train,
        other_report=other_report,
        clinc_oos_report=ds.clinc(ctx.data_root, 0, "val"),
        conversations=(len(conv_train), len(conv_cal)),
    )


def _xy(
    ctx: TrainContext, rows: list[ds.Labelled], others: list[str], lid: dict[str, int]
) -> tuple[F, npt.NDArray[np.int64]]:
    x = ctx.embed([r.text for r in rows] + others)
    y = np.array([lid[r.label] for r in rows] + [lid[OTHER]] * len(others), np.int64)
    return x, y


def train_router(
    ctx: TrainContext,
    data_csv: Path | None = None,
    tickets: Path | None = None,
    category_map: dict[str, str] | None = None,
    false_reject: float = 0.01,
    plot: Path | None = None,
) -> dict[str, object]:
    """Train the domain router; the default taxonomy unless ``data_csv`` brings one.

    ``tickets``: a JSONL of ticket events whose producer categories ``category_map`` maps to
    labels; their issue statements join the labelled texts (split by a hash of the text).
    ``false_reject``: the share of in-scope calibration texts the threshold may send to
    ``other``. ``plot``: where to write the reliability diagram (PNG) of the report split.
    """
    started = time.monotonic()
    data = _router_data(ctx, data_csv, tickets, category_map)
    labels = data.labels
    lid = {lab: i for i, lab in enumerate(labels)}
    x_train, y_train = _xy(ctx, data.train, data.other_train, lid)
    x_cal, y_cal = _xy(ctx, data.calibration, [], lid)
    x_rep, y_rep = _xy(ctx, data.report, data.other_report, lid)
    counts = np.bincount(y_train, minlength=len(labels)).astype(np.float32)
    # Balanced class weights: small categories (newsletter, cancel) count as much as account.
    weights = (counts.sum() / (len(labels) * np.maximum(counts, 1))).astype(np.float32)
    # Fine-grained taxonomies (BANKING77's 77 intents) gain from a wider layer; the default
    # taxonomy keeps the 256 units its ticket routing was measured with.
    hidden = 256 if data.source == "default" else 512
    mlp = train_classifier(
        x_train, y_train, len(labels), hidden=hidden, epochs=30, class_weight=weights
    )
    raw_rep = softmax(mlp.forward(x_rep)[0])
    temperature = rc.fit_temperature(mlp.forward(x_cal)[0], y_cal)
    # Bake the temperature into the last layer: the ONNX file's probabilities are the
    # calibrated ones, and the runtime needs to know nothing about it.
    mlp.w2 = (mlp.w2 / temperature).astype(np.float32)
    mlp.b2 = (mlp.b2 / temperature).astype(np.float32)
    probs_cal = softmax(mlp.forward(x_cal)[0])
    threshold = rc.threshold_for_false_reject(probs_cal, y_cal, false_reject)
    probs = softmax(mlp.forward(x_rep)[0])
    metrics = _router_metrics(data, probs, y_rep, threshold)
    before, after = rc.reliability(raw_rep, y_rep), rc.reliability(probs, y_rep)
    metrics.update(
        hidden=hidden,
        train_examples=len(y_train),
        calibration_examples=len(y_cal),
        temperature=temperature,
        target_false_reject=false_reject,
        calibration_false_reject=rc.open_set_metrics(probs_cal, y_cal, threshold).get(
            "in_scope_false_reject", 0.0
        ),
        ece_raw=before.ece,
        ece=after.ece,
        train_seconds=round(time.monotonic() - started, 1),
    )
    if plot is not None:
        name = "default taxonomy" if data.source == "default" else Path(data.source).name
        rc.plot_reliability(before, after, f"Router reliability, report split ({name})", plot)
        metrics["reliability_plot"] = str(plot)
    meta = {
        "head": "router",
        "labels": json.dumps(labels),
        "threshold": f"{threshold:.6f}",
        "rule": rc.RULE,
        "taxonomy": data.source,
        "metrics": json.dumps({k: v for k, v in metrics.items() if not isinstance(v, dict)}),
        **_provenance(ctx),
    }
    out = ctx.heads_out
    write_router(mlp, x_train.shape[1], meta, out / "router.onnx")
    (out / "router.md").write_text(render_router_card(metrics, meta), encoding="utf-8")
    _log().info("router_trained", path=str(out / "router.onnx"), threshold=threshold)
    return metrics


def _router_metrics(
    data: RouterData,
    probs: F,
    y: npt.NDArray[np.int64],
    threshold: float,
) -> dict[str, object]:
    """Report-split figures: open-set metrics with intervals, CLINC150 OOS alone, per class."""
    other = len(data.labels) - 1
    inscope = y != other
    metrics: dict[str, object] = {
        "taxonomy": data.source,
        "labels": data.labels,
        "report_in_scope": int(inscope.sum()),
        "report_out_of_scope": int((~inscope).sum()),
        "conversation_train": data.conversations[0],
        "conversation_calibration": data.conversations[1],
        "threshold": threshold,
        "rule": rc.RULE,
        **rc.open_set_metrics(probs, y, threshold),
    }
    metrics["in_scope_accuracy_ci95"] = list(
        rc.wilson(float(metrics["in_scope_accuracy"]), int(inscope.sum()))  # type: ignore[arg-type]
    )
    # CLINC150's out-of-scope queries alone (noise is trivially rejected and would flatter it).
    oos = set(data.clinc_oos_report)
    texts = [r.text for r in data.report] + data.other_report
    mask = np.array([t in oos for t in texts]) & ~inscope
    pred = rc.route(probs, threshold)
    clinc_oos = float((pred[mask] == other).mean()) if mask.any() else 0.0
    metrics["clinc_oos_rejection"] = clinc_oos
    metrics["clinc_oos_report"] = int(mask.sum())
    metrics["clinc_oos_rejection_ci95"] = list(rc.wilson(clinc_oos, int(mask.sum())))
    metrics["per_class_accuracy"] = {
        lab: float((pred[y == i] == i).mean())
        for i, lab in enumerate(data.labels)
        if (y == i).any()
    }
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
