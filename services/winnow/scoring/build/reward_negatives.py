"""Synthetic negatives for support answers (Bitext, STAR): what a bad agent reply looks like.

Kinds: ``deflect`` (a canned brush-off), ``truncate`` (the answer cut short), ``other`` (an answer
to a different request), ``rude`` (rude framing), ``pad`` (the answer padded with unrelated text:
the chosen answer is then the SHORTER one, so the model cannot learn "longer wins").
"""

from __future__ import annotations

import collections
import csv
import json
import random
import re
from pathlib import Path
from typing import Any

from winnow.scoring.build.reward_text import Pair, norm_ws, prompt_key, render_context

DEFLECT = [
    "Please contact support.",
    "I can't help with that, please call us.",
    "Please contact our customer service team for help with this.",
    "I'm not able to assist with that request. Please reach out to support.",
    "Sorry, I don't have that information.",
    "Please check our website.",
    "Thank you for your message. Someone will get back to you.",
    "I'm unable to help with this. Is there anything else?",
    "Please refer to the FAQ section of our website.",
    "That is outside of what I can do. Please try again later.",
    "We have received your request.",
    "I don't know. You could try calling the help line.",
    "Unfortunately I cannot assist you with this matter at this time.",
    "Please send an email to our support address and they will look into it.",
    "OK.",
    "Thanks for reaching out! Have a great day.",
]
RUDE_PREFIX = [
    "Ugh, this again? Fine. ",
    "Honestly, this is pretty obvious, but whatever. ",
    "Not sure why you couldn't figure this out yourself. ",
    "Look, I don't have all day. ",
    "Seriously? Read the instructions next time. ",
    "If you had bothered to look, you'd know this already. ",
    "I've explained this a hundred times. ",
    "Calm down. ",
]
RUDE_SUFFIX = [
    " Don't ask me again.",
    " Now stop bothering us.",
    " It's not that hard.",
    " Figure out the rest yourself.",
    " That's all I'm going to say about it.",
    " Try paying attention next time.",
    " Whatever, not my problem.",
    " Next time, just read the website.",
]
RUDE_ONLY = [
    "That's not my problem. Figure it out yourself.",
    "Why are you asking me? Google it.",
    "I don't care, stop wasting my time.",
    "Deal with it.",
    "Read the FAQ like everyone else.",
    "Not my job. Ask someone else.",
    "Are you serious? Obviously not.",
    "Whatever. We're done here.",
]
BOILERPLATE = [
    (
        "Our company was founded with a commitment to excellence and we continue to "
        "innovate across all of our product lines, bringing value to customers in many "
        "markets around the world."
    ),
    (
        "This message and any attachments are confidential and intended solely for the "
        "addressee. If you have received this message in error, please notify the sender "
        "and delete it. Any unauthorised use or disclosure is prohibited."
    ),
    (
        "Did you know? Our loyalty programme lets members earn points on every purchase, "
        "enjoy exclusive early access to seasonal sales and receive a birthday surprise "
        "every year. Sign up today in our app!"
    ),
    (
        "Terms and conditions apply. Prices, promotions, styles and availability may vary"
        " by store and online. We reserve the right to limit quantities and to correct "
        "errors in pricing or descriptions at any time without prior notice."
    ),
    (
        "Fun fact: the first online purchase is often said to have been made in 1994. "
        "Since then, e-commerce has grown to include billions of shoppers worldwide, and "
        "logistics networks have expanded enormously."
    ),
    (
        "We value your privacy. Please read our privacy policy to learn more about how we"
        " collect, use and share personal data, and about the choices available to you "
        "regarding cookies and marketing communications."
    ),
    (
        "Follow us on social media for the latest news, product launches, behind-the-"
        "scenes stories and community events. Share your photos with our hashtag for a "
        "chance to be featured on our page!"
    ),
    (
        "Weather in the region is expected to be mild this week with occasional showers "
        "in the afternoon, and temperatures will remain close to the seasonal average."
    ),
]


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it when there is no end mark)."""
    t = text.strip()
    m = re.search(r"(.+?[.!?])(\s|$)", t, flags=re.S)
    return (m.group(1) if m else t).strip()


def truncate(text: str, rng: random.Random) -> str:
    """An answer cut short: its first sentence, or its first 20-35% of words."""
    t = text.strip()
    if rng.random() < 0.5:
        s = first_sentence(t)
        if len(s) < 0.7 * len(t):
            return s
    words = t.split(" ")
    n = max(3, int(len(words) * rng.uniform(0.2, 0.35)))
    return " ".join(words[:n])


def rude(text: str, rng: random.Random) -> str:
    """A rude reply, or the answer wrapped in rude framing (then longer than the answer)."""
    r = rng.random()
    if r < 0.25:
        return rng.choice(RUDE_ONLY)
    if r < 0.5:
        return rng.choice(RUDE_PREFIX) + first_sentence(text) + rng.choice(RUDE_SUFFIX)
    # full answer with rude framing: the rejected is LONGER than the chosen
    return rng.choice(RUDE_PREFIX) + text.strip() + rng.choice(RUDE_SUFFIX)


def pad(text: str, other: str, rng: random.Random) -> str:
    """The answer padded with an unrelated answer or boilerplate (length control)."""
    extra = other.strip() if rng.random() < 0.5 else " ".join(rng.sample(BOILERPLATE, 2))
    return text.strip() + ("\n\n" if rng.random() < 0.5 else " ") + extra


# kinds and their weights; deflect/truncate make the chosen longer, pad/rude(mostly) make it shorter
KINDS = (("deflect", 0.2), ("truncate", 0.2), ("other", 0.2), ("rude", 0.15), ("pad", 0.25))


def pick_kinds(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct negative kinds, drawn by weight."""
    names = [k for k, _ in KINDS]
    w = [weight for _, weight in KINDS]
    out: list[str] = []
    while len(out) < n:
        k = rng.choices(names, w)[0]
        if k not in out:
            out.append(k)
    return out


def negative(kind: str, answer: str, other: str, rng: random.Random) -> str:
    """A rejected answer of ``kind`` for ``answer`` (``other``: an answer to another request)."""
    if kind == "deflect":
        return rng.choice(DEFLECT)
    if kind == "truncate":
        return truncate(answer, rng)
    if kind == "other":
        return other.strip()
    if kind == "rude":
        return rude(answer, rng)
    return pad(answer, other, rng)


def bitext_pairs(data: Path, rng: random.Random, per_row: int) -> list[Pair]:
    """Bitext answers against synthetic negatives (one kind per pair, ``per_row`` per row)."""
    path = (
        data
        / "bitext-customer-support-llm"
        / "Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
    )
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_cat_intent: dict[str, dict[str, list[str]]] = collections.defaultdict(
        lambda: collections.defaultdict(list)
    )
    for r in rows:
        by_cat_intent[r["category"]][r["intent"]].append(r["response"])
    all_intents = [(c, i) for c, d in by_cat_intent.items() for i in d]
    out = []
    for r in rows:
        q, a = r["instruction"].strip(), r["response"].strip()
        if not q or not a:
            continue
        same_cat = [i for i in by_cat_intent[r["category"]] if i != r["intent"]]
        for kind in pick_kinds(rng, per_row):
            if same_cat and kind == "other":
                other = rng.choice(by_cat_intent[r["category"]][rng.choice(same_cat)])
            else:  # a different category altogether
                c, i = rng.choice([x for x in all_intents if x[0] != r["category"]])
                other = rng.choice(by_cat_intent[c][i])
            rej = negative(kind, a, other, rng)
            if norm_ws(rej) == norm_ws(a):
                continue
            out.append(
                dict(
                    context=render_context([("customer", q)]),
                    chosen=a,
                    rejected=rej,
                    source="support/bitext",
                    domain="support",
                    kind=kind,
                    _key=prompt_key(q),
                    _cat=r["category"],
                )
            )
    return out


_STAR_SKIP_TASKS = {
    "trivia",
    "weather",
    "trip_directions",
    "spaceship_access_codes",
    "spaceship_life_support",
}
_STAR_CHITCHAT = re.compile(
    r"\b(goodbye|bye|you'?re welcome|anything else|have a (nice|great)|continue playing"
    r"|answer was)\b",
    re.I,
)


def star_pairs(
    data: Path, rng: random.Random, turns_per_dialogue: int, per_turn: int
) -> list[Pair]:
    """STAR agent turns (with the dialogue so far as context) against synthetic negatives."""
    with (data / "star" / "star_dialogues.shared.jsonl").open(encoding="utf-8") as f:
        dialogues = [json.loads(line) for line in f]
    # pool of substantive agent turns per task, for "other" negatives from a different task
    pool: dict[str, list[str]] = collections.defaultdict(list)
    cands_by_dialogue: list[tuple[dict[str, Any], str | None, list[int]]] = []
    for d in dialogues:
        task = next((t for t in d["tasks"] if t not in _STAR_SKIP_TASKS), None)
        if task is None:
            cands_by_dialogue.append((d, None, []))
            continue
        cands = []
        for i, t in enumerate(d["turns"]):
            if t["speaker"] != "agent" or i == 0:
                continue
            text = t["text"].strip()
            if len(text.split()) < 10 or _STAR_CHITCHAT.search(text):
                continue
            if d["turns"][i - 1]["speaker"] != "customer":
                continue
            if "trivia" in text.lower() or "weather" in text.lower() or "degrees" in text.lower():
                continue
            cands.append(i)
            pool[task].append(text)
        cands_by_dialogue.append((d, task, cands))
    tasks = list(pool)
    out = []
    for d, task, cands in cands_by_dialogue:
        if not cands:
            continue
        for i in rng.sample(cands, min(turns_per_dialogue, len(cands))):
            ctx = [(t["speaker"], t["text"]) for t in d["turns"][:i]]
            a = d["turns"][i]["text"].strip()
            for kind in pick_kinds(rng, per_turn):
                other = rng.choice(pool[rng.choice([t for t in tasks if t != task])])
                rej = negative(kind, a, other, rng)
                if norm_ws(rej) == norm_ws(a):
                    continue
                out.append(
                    dict(
                        context=render_context(ctx),
                        chosen=a,
                        rejected=rej,
                        source="support/star",
                        domain="support",
                        kind=kind,
                        _key=f"star:{d['dialogue_id']}",
                    )
                )
    return out
