"""How preference pairs are rendered and split (shared by the pair builders and the store path).

A context is the conversation before the scored response, one line per turn, ``Customer: ...``
or ``Agent: ...`` with whitespace collapsed: the same text :func:`winnow.scoring.cross.
render_context` produces at run time. Splits are by prompt: sha256 of a key (the first customer
turn, lower-cased) -> [0, 1): < 0.8 train, < 0.9 val, else test.
"""

from __future__ import annotations

import hashlib

Pair = dict[str, str]
SPLITS = ("train", "val", "test")


def norm_ws(text: str) -> str:
    """Every run of whitespace collapsed to one space, ends stripped."""
    return " ".join(text.split())


def render_context(turns: list[tuple[str, str]]) -> str:
    """``[(speaker, text)]`` with speaker customer/agent -> ``Customer: ...\\nAgent: ...``."""
    return "\n".join(f"{speaker.capitalize()}: {norm_ws(text)}" for speaker, text in turns)


def split_of(key: str) -> str:
    """The split of a prompt key: stable across runs and machines."""
    h = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64
    return "train" if h < 0.8 else "val" if h < 0.9 else "test"


def prompt_key(text: str) -> str:
    """The key a prompt is split by."""
    return norm_ws(text).lower()
