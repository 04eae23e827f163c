"""Preference pairs for the cross-encoder reward: HH-RLHF, QA-Feedback, support negatives.

Writes ``pairs_{train,val,test}.jsonl.gz``; each line ``{"context", "chosen", "rejected",
"source", "domain", "kind"}``. Sources: hh/helpful-base, hh/helpful-online, hh/harmless-base
(train only), qa/preference, qa/correction, support/bitext, support/star (synthetic negatives, see
:mod:`reward_negatives`). Split by prompt (:func:`reward_text.split_of`); STAR by dialogue id (its
first customer turns are greetings shared by hundreds of dialogues). Stdlib only, ~5 s.
"""

from __future__ import annotations

import collections
import gzip
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winnow.scoring.build.reward_negatives import bitext_pairs, star_pairs
from winnow.scoring.build.reward_text import (
    SPLITS,
    Pair,
    norm_ws,
    prompt_key,
    render_context,
    split_of,
)


@dataclass(frozen=True, slots=True)
class PairOptions:
    """How many synthetic support pairs to make, and whether harmless-base joins training."""

    seed: int = 13
    bitext_per_row: int = 2
    star_turns: int = 1
    star_per_turn: int = 2
    harmless: bool = True


_HH_TURN = re.compile(r"\n\n(Human|Assistant): ?")


def parse_hh(dialogue: str) -> list[tuple[str, str]] | None:
    """HH-RLHF ``\n\nHuman: ...\n\nAssistant: ...`` -> ``[(speaker, text)]``."""
    parts = _HH_TURN.split(dialogue)
    if parts[0].strip():
        return None
    turns: list[tuple[str, str]] = []
    for i in range(1, len(parts) - 1, 2):
        turns.append(("customer" if parts[i] == "Human" else "agent", parts[i + 1].strip()))
    return turns


def hh_pairs(data: Path, subset: str) -> list[Pair]:
    """Pairs of one HH-RLHF subset whose two dialogues share every turn but the last."""
    out: list[Pair] = []
    with gzip.open(data / "hh-rlhf" / subset / "test.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            c, rj = parse_hh(r["chosen"]), parse_hh(r["rejected"])
            if not c or not rj or c[-1][0] != "agent" or rj[-1][0] != "agent":
                continue
            ctx = c[:-1]
            if [(s, norm_ws(t)) for s, t in ctx] != [(s, norm_ws(t)) for s, t in rj[:-1]]:
                continue  # contexts differ: not a clean pair
            if not ctx or ctx[0][0] != "customer":
                continue
            ch, rej = c[-1][1], rj[-1][1]
            if not ch or not rej or norm_ws(ch) == norm_ws(rej):
                continue
            out.append(
                dict(
                    context=render_context(ctx),
                    chosen=ch,
                    rejected=rej,
                    source=f"hh/{subset}",
                    domain="general",
                    kind="human",
                    _key=prompt_key(ctx[0][1]),
                )
            )
    return out


_QA_PAIRS = [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]


def qa_pairs(data: Path) -> list[Pair]:
    """QA-Feedback: human preferences between predictions, and corrections over prediction 1."""
    recs = json.loads(
        (data / "qa-feedback-finegrained-rlhf" / "dev_feedback.shared.json").read_text("utf-8")
    )
    out: list[Pair] = []
    for r in recs:
        q = r["question"].strip()
        ctx = render_context([("customer", q)])
        key = prompt_key(q)
        seen: set[tuple[str, str]] = set()
        for (i, j), p in zip(_QA_PAIRS, r.get("preference") or [], strict=False):
            if p not in (1, 2):
                continue
            a, b = r[f"prediction {i}"].strip(), r[f"prediction {j}"].strip()
            ch, rej = (a, b) if p == 1 else (b, a)
            if norm_ws(ch) == norm_ws(rej) or (ch, rej) in seen:
                continue
            seen.add((ch, rej))
            out.append(
                dict(
                    context=ctx,
                    chosen=ch,
                    rejected=rej,
                    source="qa/preference",
                    domain="general",
                    kind="human",
                    _key=key,
                )
            )
        fb = r.get("feedback") or {}
        corr = (fb.get("corrected-prediction") or "").strip()
        orig = r["prediction 1"].strip()
        if corr and norm_ws(corr) != norm_ws(orig):
            out.append(
                dict(
                    context=ctx,
                    chosen=corr,
                    rejected=orig,
                    source="qa/correction",
                    domain="general",
                    kind="human",
                    _key=key,
                )
            )
    return out


def _assign(general: list[Pair], harmless: list[Pair]) -> tuple[dict[str, list[Pair]], int]:
    """Split by prompt key; harmless-base is train-only and dropped where its key is held out."""
    splits: dict[str, list[Pair]] = {s: [] for s in SPLITS}
    key_split: dict[str, str] = {}
    for pair in general:
        split = split_of(pair["_key"])
        key_split[pair["_key"]] = split
        splits[split].append(pair)
    dropped = 0
    for pair in harmless:
        if key_split.get(pair["_key"], "train") != "train":
            dropped += 1
            continue
        key_split[pair["_key"]] = "train"
        splits["train"].append(pair)
    return splits, dropped


def build_pairs(data: Path, out: Path, options: PairOptions | None = None) -> dict[str, Any]:
    """Write ``pairs_{train,val,test}.jsonl.gz`` and ``pairs_counts.json``; return the counts."""
    opts = options or PairOptions()
    rng = random.Random(opts.seed)
    general = hh_pairs(data, "helpful-base") + hh_pairs(data, "helpful-online") + qa_pairs(data)
    support = bitext_pairs(data, rng, opts.bitext_per_row) + star_pairs(
        data, rng, opts.star_turns, opts.star_per_turn
    )
    harmless = [] if not opts.harmless else hh_pairs(data, "harmless-base")
    splits, dropped = _assign(general + support, harmless)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for split, pairs in splits.items():
        rng.shuffle(pairs)
        write_pairs(out / f"pairs_{split}.jsonl.gz", pairs)
        for source, n in sorted(collections.Counter(p["source"] for p in pairs).items()):
            counts[source][split] = n
    (out / "pairs_counts.json").write_text(json.dumps(counts, indent=1, sort_keys=True))
    return {"counts": dict(counts), "harmless_dropped": dropped}


def write_pairs(path: Path, pairs: list[Pair]) -> None:
    """gzip JSONL of pairs without the builder's private ``_`` keys."""
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as f:
        for pair in pairs:
            public = {k: v for k, v in pair.items() if not k.startswith("_")}
            f.write(json.dumps(public, ensure_ascii=False) + "\n")


def read_pairs(path: Path) -> list[Pair]:
    """Pairs from a gzip JSONL file written by :func:`write_pairs`."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]
