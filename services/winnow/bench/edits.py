"""The edits a planted near-duplicate copy gets: typos, casing, punctuation, reordered sentences,
other PII values. The dedup benchmarks apply one or two to real text and expect the copy flagged.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable


def _typos(rng: random.Random, text: str) -> str:
    chars = list(text)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    for i in rng.sample(letters, k=min(len(letters), max(1, len(letters) // 60))):
        chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return "".join(chars)


def _casing(rng: random.Random, text: str) -> str:
    return rng.choice([text.lower(), text.upper(), text.title()])


def _punct(rng: random.Random, text: str) -> str:
    text = re.sub(r"[,;:!]", "", text)
    return text.replace(". ", rng.choice(["! ", "; ", " - ", ".\n"]))


def _reorder(rng: random.Random, text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text)
    if len(sentences) > 2:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    return " ".join(sentences)


def _pii(rng: random.Random, text: str) -> str:
    """Other PII values (digits), placeholders in the redactor's form (``<ORDER_NUMBER>``)."""
    text = re.sub(
        r"\{\{([^}]*)\}\}", lambda m: "<" + m.group(1).strip().upper().replace(" ", "_") + ">", text
    )
    return re.sub(r"\d+", lambda m: str(rng.randrange(10 ** len(m.group()))), text)


EDITS: dict[str, Callable[[random.Random, str], str]] = {
    "typos": _typos,
    "casing": _casing,
    "punctuation": _punct,
    "reorder": _reorder,
    "pii": _pii,
}
