"""Readers for the training data in ``../shared/data`` (read in place, never copied).

Each reader returns plain Python records; splitting is by a hash of the text (or prompt) so a
held-out split never shares a text with training, whatever the row order.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
import string
from dataclasses import dataclass
from pathlib import Path

from winnow.scoring.build.exceptions import TrainingDataError

BITEXT_INTENT = "bitext-customer-service-intent/Bitext_Sample_Customer_Service_Training_Dataset.csv"
BITEXT_LLM = (
    "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
)
CLINC = "clinc150/data_full.train_val.json"
CLINC_DOMAINS = "clinc150/domains.json"
HH_SUBSETS = ("harmless-base", "helpful-base", "helpful-online")
QA_FEEDBACK = "qa-feedback-finegrained-rlhf/dev_feedback.shared.json"

CATEGORY_LABELS = {
    "ACCOUNT": "account",
    "ORDER": "order",
    "REFUND": "refund",
    "INVOICE": "invoice",
    "PAYMENT": "payment",
    "SHIPPING_ADDRESS": "shipping",
    "DELIVERY": "delivery",
    "CANCELLATION_FEE": "cancel",
    "CONTACT": "contact",
    "FEEDBACK": "feedback",
    "NEWSLETTER": "newsletter",
}
"""Bitext categories -> the default taxonomy's labels."""

# CLINC150 domains with nothing to do with e-commerce support: their queries teach `other`.
# banking/credit_cards (payments, accounts) and meta ("cancel", "repeat") would contradict labels.
CLINC_OTHER_DOMAINS = (
    "kitchen_and_dining",
    "home",
    "auto_and_commute",
    "travel",
    "utility",
    "work",
    "small_talk",
)
# ...minus their intents that are e-commerce support in disguise ("has my order shipped yet").
CLINC_SUPPORT_LIKE = frozenset({"order_status", "order", "cancel_reservation"})


@dataclass(frozen=True, slots=True)
class Labelled:
    """One text with its label."""

    text: str
    label: str


@dataclass(frozen=True, slots=True)
class Pair:
    """A prompt with a preferred and a dispreferred response."""

    prompt: str
    chosen: str
    rejected: str
    source: str


def held_out(key: str, fraction: float = 0.2) -> bool:
    """Deterministic split: whether ``key`` falls in the held-out ``fraction``."""
    digest = hashlib.sha256(key.strip().lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def split_of(key: str, report: float = 0.15, calibration: float = 0.10) -> str:
    """Three-way split by a hash of ``key``: ``report``, ``calibration`` or ``train``.

    The report split is the same texts :func:`held_out` gives for ``report``, so figures stay
    comparable with heads trained before the calibration split existed.
    """
    digest = hashlib.sha256(key.strip().lower().encode("utf-8")).digest()
    u = int.from_bytes(digest[:4], "big") / 2**32
    return "report" if u < report else "calibration" if u < report + calibration else "train"


def _need(path: Path) -> Path:
    if not path.is_file():
        raise TrainingDataError(f"training data not found: {path} (set --data-root)")
    return path


def bitext(root: Path) -> list[Labelled]:
    """Bitext utterances (both datasets, de-duplicated) with the default taxonomy's labels."""
    seen: dict[str, str] = {}
    for rel, column in ((BITEXT_INTENT, "utterance"), (BITEXT_LLM, "instruction")):
        with _need(root / rel).open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                text = row[column].strip()
                if text:
                    seen.setdefault(text, CATEGORY_LABELS[row["category"]])
    return [Labelled(t, lab) for t, lab in seen.items()]


def clinc(root: Path, per_intent: int, split: str, seed: int = 0) -> list[str]:
    """CLINC150 queries from unrelated domains (``per_intent`` each) plus all out-of-scope ones."""
    data = json.loads(_need(root / CLINC).read_text(encoding="utf-8"))
    domains = json.loads(_need(root / CLINC_DOMAINS).read_text(encoding="utf-8"))
    intents = {i for d in CLINC_OTHER_DOMAINS for i in domains.get(d, [])} - CLINC_SUPPORT_LIKE
    by_intent: dict[str, list[str]] = {}
    for text, intent in data[split]:
        if intent in intents:
            by_intent.setdefault(intent, []).append(text)
    rng = random.Random(seed)
    out: list[str] = []
    for intent in sorted(by_intent):
        texts = by_intent[intent]
        rng.shuffle(texts)
        out.extend(texts[:per_intent])
    out.extend(text for text, _ in data[f"oos_{split}"])
    return out


def noise(count: int, seed: int = 0) -> list[str]:
    """Keyboard mashing and symbol soup: inputs no taxonomy should claim."""
    rng = random.Random(seed)
    letters = string.ascii_lowercase
    out: list[str] = []
    for _ in range(count):
        words = [
            "".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(rng.randint(1, 6))
        ]
        text = " ".join(words)
        if rng.random() < 0.3:
            text = "".join(rng.choices(string.punctuation + string.digits, k=rng.randint(1, 12)))
        out.append(text)
    return out


def labelled_csv(path: Path) -> list[Labelled]:
    """A user's ``text,label`` CSV (``category`` or ``intent`` are accepted as the label column)."""
    with _need(path).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        label_col = next((c for c in ("label", "category", "intent") if c in fields), None)
        if "text" not in fields or label_col is None:
            raise TrainingDataError(f"{path}: need a `text` and a `label` column, got {fields}")
        rows = [
            Labelled(r["text"].strip(), r[label_col].strip())
            for r in reader
            if r["text"].strip() and r[label_col].strip()
        ]
    if len({r.label for r in rows}) < 2:
        raise TrainingDataError(f"{path}: need at least two labels")
    return rows


def _split_hh(dialogue: str) -> tuple[str, str] | None:
    """HH-RLHF text -> (last human turn, final assistant turn)."""
    head, sep, response = dialogue.rpartition("\n\nAssistant:")
    if not sep:
        return None
    _, sep, prompt = head.rpartition("\n\nHuman:")
    if not sep:
        return None
    return prompt.strip(), response.strip()


def hh_rlhf(root: Path) -> list[Pair]:
    """HH-RLHF pairs; the prompt is the last human turn (what the scorer sees at run time)."""
    pairs: list[Pair] = []
    for subset in HH_SUBSETS:
        with gzip.open(
            _need(root / "hh-rlhf" / subset / "test.jsonl.gz"), "rt", encoding="utf-8"
        ) as f:
            for line in f:
                row = json.loads(line)
                chosen, rejected = _split_hh(row["chosen"]), _split_hh(row["rejected"])
                if chosen is None or rejected is None or chosen[1] == rejected[1]:
                    continue
                if not chosen[1] or not rejected[1]:
                    continue
                pairs.append(Pair(chosen[0], chosen[1], rejected[1], f"hh-rlhf/{subset}"))
    return pairs


def qa_feedback(root: Path) -> list[Pair]:
    """QA-Feedback: the annotators' pairwise preferences, plus correction over prediction 1."""
    records = json.loads(_need(root / QA_FEEDBACK).read_text(encoding="utf-8"))
    order = [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    pairs: list[Pair] = []
    for rec in records:
        question = rec["question"].strip()
        preds = {i: (rec.get(f"prediction {i}") or "").strip() for i in range(1, 5)}
        for (a, b), pref in zip(order, rec.get("preference") or [], strict=False):
            if pref not in (1, 2) or not preds[a] or not preds[b] or preds[a] == preds[b]:
                continue
            win, lose = (a, b) if pref == 1 else (b, a)
            pairs.append(Pair(question, preds[win], preds[lose], "qa-feedback/preference"))
        corrected = ((rec.get("feedback") or {}).get("corrected-prediction") or "").strip()
        if corrected and preds[1] and corrected != preds[1]:
            pairs.append(Pair(question, corrected, preds[1], "qa-feedback/correction"))
    return pairs
