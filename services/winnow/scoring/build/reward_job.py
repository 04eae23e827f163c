"""``winnow models train reward-cross``: pairs -> training run -> export -> replace if better.

A run (trained here, or fetched from a GPU machine with ``--run``) is a folder of fp16 weight
chunks ``reward.part*`` (< 15 MB each, so a run fits through small transfer limits),
``config.json`` and ``metrics.json``. The committed artefact (``models/reward/``) is replaced
only when the run's validation acceptance score beats the one recorded in it.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from winnow.scoring.build.exceptions import TrainingDataError
from winnow.scoring.build.reward_eval import Pair, table
from winnow.scoring.build.reward_pairs import build_pairs, read_pairs
from winnow.scoring.build.reward_text import prompt_key, split_of
from winnow.scoring.cross import REWARD_DIR, render_context

PART_BYTES = 14_000_000
MIN_STORE_PAIRS = 20
"""Fewest preference pairs ``--from-store`` accepts: fewer teach nothing and hint at a wrong
URL or tenant, so the command stops before a long training run instead."""


@dataclass(frozen=True, slots=True)
class CrossJob:
    """One invocation of the command."""

    data_root: Path
    models_dir: Path
    work_dir: Path
    base: Path
    device: str = "auto"
    max_minutes: float | None = None
    run: Path | None = None
    store_url: str | None = None
    tenant: str | None = None
    max_eval_per_source: int | None = None
    force: bool = False
    command: str = ""
    min_store_pairs: int = MIN_STORE_PAIRS


def store_pairs(url: str, tenant: str) -> list[Pair]:
    """Preference examples a running store holds, as pairs (split by their first user turn)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from winnow.store.store import ExampleStore

    try:
        store = ExampleStore(url)
        try:
            return _read_store_pairs(store, tenant)
        finally:
            store.close()
    except (SQLAlchemyError, ValueError) as exc:
        shown = make_url(url).render_as_string(hide_password=True) if "://" in url else url
        raise TrainingDataError(
            f"cannot read preference pairs from the store {shown}: {exc.__class__.__name__} "
            "(is the URL right and the schema migrated?)"
        ) from exc


def _read_store_pairs(store: Any, tenant: str) -> list[Pair]:
    from winnow.events import Role
    from winnow.example import ExampleKind
    from winnow.store.queries import ExampleQuery, iter_examples

    out: list[Pair] = []
    for stored in iter_examples(store, ExampleQuery(tenant)):
        ex = stored.example
        if ex.kind is not ExampleKind.PREFERENCE or not ex.rejected:
            continue
        turns = ex.prompt_messages
        first = next((m.content for m in turns if m.role is Role.USER), "")
        out.append(
            {
                "context": render_context(turns),
                "chosen": ex.answer,
                "rejected": ex.rejected,
                "source": f"store/{tenant}",
                "domain": ex.domain or "other",
                "kind": "store",
                "_key": prompt_key(first),
            }
        )
    return out


def load_splits(job: CrossJob, log: Any) -> dict[str, list[Pair]]:
    """Train/val/test pairs: the shared datasets, plus the store's when asked."""
    folder = job.work_dir / "pairs"
    if not (folder / "pairs_train.jsonl.gz").is_file():
        log(f"building pairs from {job.data_root}")
        build_pairs(job.data_root, folder)
    splits = {s: read_pairs(folder / f"pairs_{s}.jsonl.gz") for s in ("train", "val", "test")}
    if job.store_url:
        tenant = job.tenant or "default"
        extra = store_pairs(job.store_url, tenant)
        if len(extra) < job.min_store_pairs:
            raise TrainingDataError(
                f"the store holds {len(extra)} preference pairs for tenant {tenant!r} "
                f"(accepted examples with a rejected answer); --from-store needs at least "
                f"{job.min_store_pairs}"
            )
        for pair in extra:
            splits[split_of(pair.pop("_key"))].append(pair)
        log(f"{len(extra)} preference pairs from the store")
    return splits


def save_run(out: Path, model: Any, meta: dict[str, Any], metrics: dict[str, Any]) -> None:
    """fp16 safetensors in ``reward.part*`` chunks, ``config.json``, ``metrics.json``."""
    import torch
    from safetensors.torch import save

    out.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()
    }
    blob = save(state, metadata={"format": "pt"})
    parts: list[str] = []
    for start in range(0, len(blob), PART_BYTES):
        parts.append(f"reward.part{len(parts)}")
        (out / parts[-1]).write_bytes(blob[start : start + PART_BYTES])
    meta = {**meta, "parts": parts, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)}
    (out / "config.json").write_text(json.dumps(meta, indent=1))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))


def subsample(pairs: list[Pair], per_source: int, seed: int) -> list[Pair]:
    """At most ``per_source`` pairs of each source (CPU evaluation budgets)."""
    import random

    if per_source <= 0:
        return pairs
    rng = random.Random(seed)
    out: list[Pair] = []
    for source in sorted({p["source"] for p in pairs}):
        group = [p for p in pairs if p["source"] == source]
        out += group if len(group) <= per_source else rng.sample(group, per_source)
    return out


def machine() -> str:
    """Where this ran, for the model card."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return gpu or f"CPU {platform.processor() or platform.machine()}, torch {torch.__version__}"


def train_run(job: CrossJob, splits: dict[str, list[Pair]], out: Path, log: Any) -> None:
    """Train on this machine (GPU budget 6 min, CPU 30 min at length 128) and save the run."""
    from winnow.scoring.build.reward_cross import CrossTrainConfig, Trainer, pick_device
    from winnow.scoring.build.reward_eval import evaluate
    from winnow.scoring.build.reward_model import CONTEXT_MIN_FRAC, score_pairs

    device = pick_device(job.device)
    cuda = device.type == "cuda"
    cfg = CrossTrainConfig(
        base=job.base,
        max_minutes=job.max_minutes or (6.0 if cuda else 30.0),
        max_length=256 if cuda else 128,
        batch_size=64 if cuda else 16,
        eval_batch_size=256 if cuda else 32,
        epochs=8 if cuda else 1,
        evals_per_epoch=2 if cuda else 1,
    )
    per_source = (
        job.max_eval_per_source if job.max_eval_per_source is not None else (0 if cuda else 60)
    )
    val = subsample(splits["val"], per_source, 1)
    test = subsample(splits["test"], per_source, 2)
    trainer = Trainer(cfg, job.base / "tokenizer.json", device)
    deadline = time.monotonic() + cfg.max_minutes * 60
    best = trainer.fit(splits["train"], val, deadline, log)
    test_ev = evaluate(test, score_pairs(trainer.model, trainer.batcher, test, device, 64))
    log(table(test_ev, "test"))
    meta = {
        "bert_config": trainer.base_config,
        "pooling": cfg.pooling,
        "max_length": cfg.max_length,
        "context_min_frac": CONTEXT_MIN_FRAC,
        "train_args": {k: str(v) for k, v in asdict(cfg).items()},
    }
    metrics = {
        "selected_at": best.at,
        "val": best.val,
        "test": test_ev,
        "history": best.history,
        "device": machine(),
        "date": datetime.now(UTC).date().isoformat(),
        "command": job.command,
    }
    save_run(out, trainer.model, meta, metrics)


def reward_dir(models_dir: Path) -> Path:
    """Where the committed cross-encoder lives."""
    return models_dir / REWARD_DIR


def publish(job: CrossJob, run: Path, splits: dict[str, list[Pair]], log: Any) -> dict[str, Any]:
    """Export ``run``; replace ``models/reward/`` only if its validation score is higher."""
    from winnow.scoring.build.reward_card import write_card
    from winnow.scoring.build.reward_export import (
        ExportPlan,
        export_run,
        previous_select,
        val_select,
    )

    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    new, old = val_select(metrics), previous_select(job.models_dir)
    if old is not None and new <= old and not job.force:
        log(f"run scores {new:.4f} on validation, the committed model {old:.4f}: kept the old one")
        return {"replaced": False, "val_select": new, "previous_val_select": old}
    per_source = job.max_eval_per_source if job.max_eval_per_source is not None else 100
    plan = ExportPlan(
        run=run,
        tokenizer=job.base / "tokenizer.json",
        test_pairs=subsample(splits["test"], per_source, 2),
        val_pairs=subsample(splits["val"], per_source, 1),
    )
    provenance = {
        "val_select": new,
        "device": metrics.get("device", "unknown"),
        "date": metrics.get("date", ""),
        "command": metrics.get("command", ""),
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report = export_run(plan, reward_dir(job.models_dir), provenance)
    write_card(reward_dir(job.models_dir) / "cross.md", metrics, report, provenance)
    log(f"replaced {reward_dir(job.models_dir)} (validation {new:.4f} > {old})")
    return {"replaced": True, "val_select": new, "previous_val_select": old, **report}


def run_job(job: CrossJob, log: Any) -> dict[str, Any]:
    """The whole command: pairs, training (unless ``job.run``), export and replacement."""
    splits = load_splits(job, log)
    run = job.run
    if run is None:
        run = job.work_dir / "run"
        train_run(job, splits, run, log)
    return publish(job, run, splits, log)
