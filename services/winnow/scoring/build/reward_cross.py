"""Fine-tune the cross-encoder reward end to end with the Bradley-Terry pairwise loss.

Loss: -log sigmoid(s_chosen - s_rejected), weighted so that, per source, pairs whose chosen
answer is longer and pairs whose chosen answer is shorter weigh the same (a reward model that
learns "longer is better" scores well on HH-RLHF otherwise). Each epoch takes every general pair
and a fresh draw of support pairs capped at ``support_frac`` of the epoch. Checkpoints are
picked on validation by :func:`~winnow.scoring.build.reward_eval.selection_score`.

GPU: bf16 autocast and SDPA attention; CPU: the same code with a small budget (``max_minutes``
covers training; evaluation follows on a per-source subsample).
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from winnow.scoring.build.reward_eval import Pair, evaluate, selection_score
from winnow.scoring.build.reward_model import PairBatcher, RewardModel, load_base, score_pairs

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class CrossTrainConfig:
    """Knobs of one training run (defaults: the selected GPU run)."""

    base: Path
    max_minutes: float = 6.0
    max_length: int = 256
    batch_size: int = 64
    eval_batch_size: int = 128
    epochs: int = 8
    lr: float = 3e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    pooling: str = "mean"
    length_balance: float = 1.0
    support_frac: float = 0.4
    max_train_pairs: int = 0
    evals_per_epoch: int = 2
    seed: int = 13


@dataclass
class Best:
    """The best checkpoint seen so far on validation."""

    score: float = -math.inf
    state: dict[str, torch.Tensor] | None = None
    at: str = ""
    val: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


def pick_device(name: str) -> torch.device:
    """``auto`` is CUDA when torch sees a GPU, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def length_weights(pairs: list[Pair], strength: float) -> list[float]:
    """Per source, weights giving chosen-longer and chosen-shorter pairs half the total each."""
    if strength <= 0:
        return [1.0] * len(pairs)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    deltas = [len(p["chosen"].strip()) - len(p["rejected"].strip()) for p in pairs]
    for pair, delta in zip(pairs, deltas, strict=True):
        if delta:
            counts[pair["source"]][delta > 0] += 1
    out: list[float] = []
    for pair, delta in zip(pairs, deltas, strict=True):
        shorter, longer = counts[pair["source"]]
        weight = 1.0
        if delta and shorter and longer:
            weight = 0.5 * (shorter + longer) / (longer if delta > 0 else shorter)
        out.append(1.0 + strength * (weight - 1.0))
    return out


def epoch_plan(
    train: list[Pair], support_frac: float, max_pairs: int, rng: random.Random
) -> list[int]:
    """Pair indices of one epoch: every general pair, support pairs up to ``support_frac``."""
    general = [i for i, p in enumerate(train) if p["domain"] != "support"]
    support = [i for i, p in enumerate(train) if p["domain"] == "support"]
    if support_frac < 1.0 and general:
        cap = int(len(general) * support_frac / (1.0 - support_frac))
        support = rng.sample(support, min(cap, len(support)))
    idx = general + support
    rng.shuffle(idx)
    return idx[:max_pairs] if max_pairs else idx


def batches_by_length(
    idx: list[int], train: list[Pair], size: int, rng: random.Random
) -> list[list[int]]:
    """Sort within chunks of 50 batches by length (less padding), then shuffle the batches."""
    out: list[list[int]] = []
    for start in range(0, len(idx), size * 50):
        chunk = sorted(
            idx[start : start + size * 50],
            key=lambda j: len(train[j]["context"]) + len(train[j]["chosen"]),
        )
        out += [chunk[k : k + size] for k in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def make_optimizer(model: RewardModel, cfg: CrossTrainConfig, cuda: bool) -> torch.optim.AdamW:
    """AdamW: no decay on biases and LayerNorm, a larger learning rate for the fresh head."""
    named = list(model.bert.named_parameters())
    plain = [p for n, p in named if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in named if not (n.endswith("bias") or "LayerNorm" in n)]
    return torch.optim.AdamW(
        [
            {"params": decay, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
            {"params": plain, "lr": cfg.lr, "weight_decay": 0.0},
            {"params": list(model.head.parameters()), "lr": cfg.head_lr, "weight_decay": 0.0},
        ],
        fused=cuda,
    )


def bt_step(
    model: RewardModel,
    batcher: PairBatcher,
    pairs: list[Pair],
    weights: torch.Tensor,
    device: torch.device,
) -> torch.Tensor:
    """The weighted Bradley-Terry loss of one batch of pairs."""
    contexts = [p["context"] for p in pairs]
    responses = [p["chosen"] for p in pairs] + [p["rejected"] for p in pairs]
    batch = batcher.batch(contexts + contexts, responses, device)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
        scores = model(**batch).float()
    margin = scores[: len(pairs)] - scores[len(pairs) :]
    return (weights * -F.logsigmoid(margin)).sum() / weights.sum()


class Trainer:
    """One training run from the base weights; keeps the best validation checkpoint."""

    def __init__(self, cfg: CrossTrainConfig, tokenizer: Path, device: torch.device) -> None:
        torch.manual_seed(cfg.seed)
        self.cfg, self.device = cfg, device
        self.model, self.base_config = load_base(
            cfg.base, cfg.pooling, "sdpa" if device.type == "cuda" else "eager"
        )
        self.model.to(device)
        self.batcher = PairBatcher(tokenizer, cfg.max_length)
        self.best = Best()

    def validate(self, val: list[Pair], tag: str, step: int, log: Log) -> None:
        """Score validation, log it, keep the weights if they beat the best so far."""
        scores = score_pairs(self.model, self.batcher, val, self.device, self.cfg.eval_batch_size)
        ev = evaluate(val, scores)
        select = selection_score(ev, "acceptance")
        helpful = ev["by_group"].get("hh_helpful", ev["overall"])["acc"]
        support = ev["by_group"].get("support", {}).get("acc", math.nan)
        log(
            f"eval {tag}: val {ev['overall']['acc']:.3f} helpful {helpful:.3f} "
            f"support {support:.3f} select {select:.4f}"
        )
        self.best.history.append({"at": tag, "step": step, "select": select})
        if select > self.best.score:
            state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
            self.best.score, self.best.state, self.best.at, self.best.val = select, state, tag, ev
        self.model.train()

    def fit(self, train: list[Pair], val: list[Pair], deadline: float, log: Log) -> Best:
        """Train until ``epochs`` or ``deadline``; returns the best checkpoint (loaded)."""
        cfg, rng = self.cfg, random.Random(self.cfg.seed)
        weights = length_weights(train, cfg.length_balance)
        opt = make_optimizer(self.model, cfg, self.device.type == "cuda")
        per_epoch = len(epoch_plan(train, cfg.support_frac, cfg.max_train_pairs, random.Random(0)))
        steps = math.ceil(per_epoch / cfg.batch_size)
        total, warm = steps * cfg.epochs, max(1, int(steps * cfg.epochs * cfg.warmup))
        base_lrs = [g["lr"] for g in opt.param_groups]
        evals_at = {
            max(1, round(steps * (k + 1) / cfg.evals_per_epoch)) for k in range(cfg.evals_per_epoch)
        }
        log(f"{len(train)} train pairs, {per_epoch} per epoch, {total} steps")
        step = 0
        self.model.train()
        for epoch in range(cfg.epochs):
            plan = epoch_plan(train, cfg.support_frac, cfg.max_train_pairs, rng)
            for i, rows in enumerate(batches_by_length(plan, train, cfg.batch_size, rng)):
                if time.monotonic() > deadline:
                    log(f"time budget reached at epoch {epoch + 1}, step {step}")
                    self.validate(val, f"epoch {epoch + 1} (stopped) step {step}", step, log)
                    return self._finish()
                ramp = (step + 1) / warm if step < warm else (total - step) / max(1, total - warm)
                for group, lr in zip(opt.param_groups, base_lrs, strict=True):
                    group["lr"] = lr * max(0.0, ramp)
                w = torch.tensor([weights[j] for j in rows], device=self.device)
                loss = bt_step(self.model, self.batcher, [train[j] for j in rows], w, self.device)
                opt.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                opt.step()
                step += 1
                if i + 1 in evals_at:
                    self.validate(val, f"epoch {epoch + 1} step {i + 1}", step, log)
        return self._finish()

    def _finish(self) -> Best:
        if self.best.state is not None:
            self.model.load_state_dict(self.best.state)
        return self.best
