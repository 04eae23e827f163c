"""Cheap text signals every example gets, with or without the ONNX quality models."""

from __future__ import annotations

import re

from winnow.example import Example

# `{{Order Number}}`, `{{ account_id }}`, `[[name]]`: templates an agent or a bot forgot to fill.
_PLACEHOLDER = re.compile(r"\{\{[^{}\n]{1,80}\}\}|\[\[[^\[\]\n]{1,80}\]\]")


def count_placeholders(text: str) -> int:
    """Number of unresolved template placeholders in ``text``."""
    return len(_PLACEHOLDER.findall(text))


def heuristic_scores(example: Example) -> dict[str, float]:
    """Length and template signals of the answer and the prompt, as floats for the scores map."""
    answer = example.answer
    prompt_chars = sum(len(m.content) for m in example.prompt_messages)
    return {
        "answer_chars": float(len(answer)),
        "answer_words": float(len(answer.split())),
        "prompt_chars": float(prompt_chars),
        "turns": float(len(example.messages)),
        "empty_answer": 1.0 if not answer.strip() else 0.0,
        "placeholders": float(count_placeholders(answer)),
    }


def score_heuristics(example: Example) -> Example:
    """Return a copy of ``example`` with its heuristic signals merged into ``scores``."""
    return example.model_copy(update={"scores": {**example.scores, **heuristic_scores(example)}})
