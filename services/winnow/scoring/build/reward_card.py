"""The cross-encoder's model card (``models/reward/cross.md``), written from the run's metrics."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

TARGET_HELPFUL = 0.60

LIMITS = """## What the score does not see

- Facts: it never checks an answer against a knowledge base, an order or a policy. A fluent,
  confident, wrong answer to a support question can score high (QA-Feedback pairs, where the
  preferred answer is the more correct one, are at chance).
- Anything cut off: the pair is cut to `max_length` tokens, the context from the LEFT (the turns
  nearest the response are kept, at least 40% of the budget when the context is that long), the
  response from the right. The end of a long answer and the start of a long ticket are unseen.
- System prompts, tool calls, attachments, metadata (tenant, CSAT, channel): only `Customer:` /
  `Agent:` turns are rendered.
- Languages other than English (MiniLM's vocabulary is English, uncased).
- Calibration: the score is only meaningful to rank responses to the SAME context,
  P(a preferred over b) = sigmoid(score_a - score_b). The (0, 1) reward Winnow stores is
  sigmoid((score - center) / scale) with the validation median and half-IQR: 0.5 means a median
  validation response, not "50% likely to be good". Thresholds tuned for the old head do not
  transfer; per-domain quantiles are the safer knob.
- Open-domain helpfulness: on HH-RLHF helpful pairs it is barely above chance and not above the
  length baseline on test; it is trained for support replies (deflections, truncation, rudeness,
  off-topic or padded answers).
"""


def _fmt(x: float) -> str:
    return "n/a" if isinstance(x, float) and math.isnan(x) else f"{x:.3f}"


def slice_table(ev: dict[str, Any]) -> list[str]:
    """One Markdown row per slice: n, accuracy [CI], length baseline, chosen longer/shorter."""
    lines = [
        "| slice | pairs | accuracy [95% CI] | length baseline | chosen longer | chosen shorter |",
        "|---|---|---|---|---|---|",
    ]
    rows = [("**overall**", ev["overall"])]
    rows += [(f"group {k}", m) for k, m in ev["by_group"].items()]
    rows += [(f"source {k}", m) for k, m in ev["by_source"].items()]
    rows += [(f"support negative: {k}", m) for k, m in ev["support_by_kind"].items()]
    for name, m in rows:
        lines.append(
            f"| {name} | {m['n']} | {_fmt(m['acc'])} [{_fmt(m['ci95'][0])}, "
            f"{_fmt(m['ci95'][1])}] | {_fmt(m['length_baseline'])} | "
            f"{_fmt(m['acc_chosen_longer'])} (n={m['n_chosen_longer']}) | "
            f"{_fmt(m['acc_chosen_shorter'])} (n={m['n_chosen_shorter']}) |"
        )
    return lines


def _header(metrics: dict[str, Any], report: dict[str, Any], prov: dict[str, Any]) -> list[str]:
    agreement = report["agreement"]
    helpful = metrics["test"]["by_group"].get("hh_helpful", {}).get("acc", math.nan)
    status = "meets" if helpful >= TARGET_HELPFUL else "is BELOW"
    sizes = ", ".join(f"`{k}` {v / 1e6:.1f} MB" for k, v in report["sizes_bytes"].items())
    return [
        "# Cross-encoder reward model (`cross.int8.onnx`)",
        "",
        "all-MiniLM-L6-v2 fine-tuned end to end as a cross-encoder over (conversation context, "
        "response) with the length-balanced Bradley-Terry pairwise loss; mean pooling, linear "
        "head. Selected by `WINNOW_REWARD_MODEL=cross` (the default).",
        "",
        f"- Produced by: {prov.get('device', '?')}, {prov.get('date', '?')}: "
        f"`{prov.get('command', '?')}`; exported {prov.get('exported', '?')}.",
        f"- Checkpoint: {metrics.get('selected_at', '?')}"
        + (f", variant {metrics['selected_variant']}" if metrics.get("selected_variant") else "")
        + f"; validation acceptance score {prov.get('val_select', math.nan):.4f} (the artefact "
        "is replaced only by a run that beats it).",
        f"- Files: {sizes} (word embeddings quantised too); `tokenizer.json`. The fp16 CUDA file "
        "is built but not committed.",
        f"- int8 vs PyTorch fp32 on {agreement['test_pairs']} test pairs (up to 100 per source): "
        f"accuracy {agreement['acc_onnx_int8']:.4f} vs {agreement['acc_torch_fp32']:.4f} "
        f"(tolerance {100 * agreement['tolerance']:.0f} point).",
        f"- Calibration of the stored reward: center {report['center']:.3f}, "
        f"scale {report['scale']:.3f}.",
        f"- **HH-RLHF helpful accuracy on test: {helpful:.3f}, which {status} the "
        f"{TARGET_HELPFUL:.2f} target of issue 16.**",
        "",
        "Splits are by prompt (sha256 of the first customer turn; STAR by dialogue), so no "
        "prompt is in two splits. Accuracy counts ties as half; CIs are Wilson 95%. Length "
        "baseline: the longer answer wins. `pad` negatives make the chosen answer the shorter "
        "one, `truncate`/`deflect` the longer one.",
    ]


def write_card(
    path: Path, metrics: dict[str, Any], report: dict[str, Any], prov: dict[str, Any]
) -> None:
    """Render the card: provenance, test and validation slices, limits."""
    lines = _header(metrics, report, prov)
    for split in ("test", "val"):
        lines += ["", f"## {'Test' if split == 'test' else 'Validation'} split", ""]
        lines += slice_table(metrics[split])
    lines += ["", LIMITS]
    path.write_text("\n".join(lines), encoding="utf-8")
