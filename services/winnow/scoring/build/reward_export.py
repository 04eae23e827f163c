"""A trained cross-encoder run -> ``models/reward/`` (int8 ONNX for the CPU, fp16 for CUDA).

Steps: join the fp16 weight chunks (sha256 checked), export fp32 ONNX with ORT's BERT fusions,
quantise to int8 (word embeddings included, to keep the committed file near 23 MB), check that
the int8 model's pairwise accuracy on test pairs is within ``tolerance`` of PyTorch fp32, then
calibrate the (0, 1) mapping on validation responses and write the metadata into the graph.
The fp16 file is built for CUDA but git-ignored (45 MB).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from winnow.scoring.build import export
from winnow.scoring.build.reward_eval import Pair, evaluate, selection_score
from winnow.scoring.build.reward_model import (
    CONTEXT_MIN_FRAC,
    PairBatcher,
    load_finetuned,
    pair_order,
    score_pairs,
)
from winnow.scoring.cross import CROSS_FP16, CROSS_INT8, REWARD_DIR, TOKENIZER
from winnow.scoring.exceptions import ModelAgreementError
from winnow.scoring.runtime import CPU, SessionConfig, import_ort, open_session

INT8_OPS = ("MatMul", "Attention", "EmbedLayerNormalization", "Gather")


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What to export and how to check it."""

    run: Path
    tokenizer: Path
    test_pairs: list[Pair]
    val_pairs: list[Pair]
    threads: int = 0
    tolerance: float = 0.01
    fp16: bool = True


def onnx_scores(
    session: Any, batcher: PairBatcher, pairs: list[Pair], batch_size: int = 32
) -> list[tuple[float, float]]:
    """``(score(chosen), score(rejected))`` per pair from an ONNX session."""
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(pairs)
    order = pair_order(pairs)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        contexts = [pairs[j]["context"] for j in rows]
        responses = [pairs[j]["chosen"] for j in rows] + [pairs[j]["rejected"] for j in rows]
        ids, mask, types = batcher.tokenizer(contexts + contexts, responses)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        scores = session.run(["score"], feeds)[0].tolist()
        for k, j in enumerate(rows):
            out[j] = (scores[k], scores[k + len(rows)])
    return out


def calibration(scores: list[tuple[float, float]]) -> tuple[float, float]:
    """``(center, scale)``: median and half the inter-quartile range of all response scores."""
    flat = np.array([s for pair in scores for s in pair], dtype=np.float64)
    q25, q50, q75 = np.quantile(flat, [0.25, 0.5, 0.75])
    return float(q50), float(max((q75 - q25) / 2.0, 1e-3))


def set_metadata(path: Path, meta: dict[str, str]) -> None:
    """Write ``meta`` into the ONNX ``metadata_props`` (the run-time reads it from the session)."""
    onnx = export.require("onnx")
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def _build_files(plan: ExportPlan, scratch: Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    # Fatal only: the fp16 (GPU) optimiser pass probes CUDA and logs an error on CPU hosts.
    import_ort(4)
    model, meta = load_finetuned(plan.run, attn="eager")
    raw = scratch / "raw.onnx"
    export.export_raw(model, raw, output_name="score")
    report: dict[str, Any] = {"fp32_fused_ops": export.write_fp32(raw, scratch / "fp32.onnx")}
    export.write_int8(scratch / "fp32.onnx", scratch / CROSS_INT8, scratch, op_types=INT8_OPS)
    if plan.fp16:
        report["fp16_fused_ops"] = export.write_fp16(raw, scratch / CROSS_FP16)
    raw.unlink()
    return model, meta, report


def check_agreement(
    plan: ExportPlan, model: Any, batcher: PairBatcher, session: Any
) -> dict[str, Any]:
    """Pairwise test accuracy of torch fp32 and int8 ONNX; raises past the tolerance."""
    torch = export.require("torch")
    if plan.threads:
        torch.set_num_threads(plan.threads)
    torch_scores = score_pairs(model, batcher, plan.test_pairs, torch.device("cpu"), 32)
    int8_scores = onnx_scores(session, batcher, plan.test_pairs)
    reference = evaluate(plan.test_pairs, torch_scores)
    int8 = evaluate(plan.test_pairs, int8_scores)
    diff = int8["overall"]["acc"] - reference["overall"]["acc"]
    same_side = sum(
        (a[0] > a[1]) == (b[0] > b[1]) for a, b in zip(torch_scores, int8_scores, strict=True)
    )
    result = {
        "same_decision": same_side / max(1, len(plan.test_pairs)),
        "test_pairs": len(plan.test_pairs),
        "acc_torch_fp32": reference["overall"]["acc"],
        "acc_onnx_int8": int8["overall"]["acc"],
        "by_group_torch_fp32": {k: v["acc"] for k, v in reference["by_group"].items()},
        "by_group_onnx_int8": {k: v["acc"] for k, v in int8["by_group"].items()},
        "tolerance": plan.tolerance,
    }
    if abs(diff) > plan.tolerance:
        raise ModelAgreementError(
            f"int8 cross-encoder accuracy {int8['overall']['acc']:.4f} is {100 * diff:+.2f} "
            f"points from PyTorch fp32 on {len(plan.test_pairs)} test pairs"
        )
    return result


def export_run(plan: ExportPlan, dest: Path, provenance: dict[str, Any]) -> dict[str, Any]:
    """Export, check and write ``cross.int8.onnx`` (+ fp16, tokenizer) into ``dest``."""
    with tempfile.TemporaryDirectory(prefix="winnow-cross-") as tmp:
        scratch = Path(tmp)
        model, meta, report = _build_files(plan, scratch)
        batcher = PairBatcher(plan.tokenizer, int(meta["max_length"]))
        cpu = SessionConfig(providers=[CPU], intra_op_threads=plan.threads)
        session = open_session(scratch / CROSS_INT8, cpu, cuda=False)
        report["agreement"] = check_agreement(plan, model, batcher, session)
        val_scores = onnx_scores(session, batcher, plan.val_pairs)
        center, scale = calibration(val_scores)
        report["val_int8"] = evaluate(plan.val_pairs, val_scores)["overall"]
        metadata = {
            "head": "reward-cross",
            "max_length": str(meta["max_length"]),
            "context_min_frac": str(CONTEXT_MIN_FRAC),
            "center": f"{center:.6f}",
            "scale": f"{scale:.6f}",
            "weights_sha256": meta["sha256"],
            "provenance": json.dumps({**provenance, "export": report}),
        }
        dest.mkdir(parents=True, exist_ok=True)
        names = [CROSS_INT8, *([CROSS_FP16] if plan.fp16 else [])]
        for name in names:
            set_metadata(scratch / name, metadata)
            shutil.move(str(scratch / name), dest / name)
        shutil.copy(plan.tokenizer, dest / TOKENIZER)
    report["sizes_bytes"] = {n: (dest / n).stat().st_size for n in names}
    report["center"], report["scale"] = center, scale
    return report


def previous_select(models_dir: Path) -> float | None:
    """The validation selection score recorded in the committed cross-encoder, if any."""
    path = models_dir / REWARD_DIR / CROSS_INT8
    if not path.is_file():
        return None
    onnx = export.require("onnx")
    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    try:
        return float(json.loads(props["provenance"])["val_select"])
    except (KeyError, ValueError):
        return None


def val_select(metrics: dict[str, Any]) -> float:
    """The acceptance score of a run's validation metrics (what replacement compares)."""
    return selection_score(metrics["val"], "acceptance")
