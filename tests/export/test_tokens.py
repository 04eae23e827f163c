"""Token counters and the Chinchilla compute-optimal size."""

from __future__ import annotations

from pathlib import Path

import pytest
from tokenizers import Tokenizer

from winnow.export.tokens import (
    CharTokenCounter,
    MiniLMTokenCounter,
    compute_optimal_parameters,
    token_counter,
)

MODELS = Path(__file__).resolve().parents[2] / "models"
TOKENIZER = MODELS / "embedder" / "tokenizer.json"


def test_chars_heuristic_rounds_up_per_text() -> None:
    """One token per 4 characters, rounded up for each text."""
    assert CharTokenCounter().count(["abcd", "abcde", ""]) == [1, 2, 0]


def test_chinchilla_is_twenty_tokens_per_parameter() -> None:
    """20 B tokens train a 1 B parameter model compute-optimally."""
    assert compute_optimal_parameters(20_000_000_000) == 1_000_000_000
    assert compute_optimal_parameters(39) == 1


def test_auto_falls_back_to_chars_without_models(tmp_path: Path) -> None:
    """Without a built embedder, ``auto`` counts with the documented chars heuristic."""
    assert token_counter(tmp_path, "auto").describe()["method"] == "chars"


@pytest.mark.skipif(not TOKENIZER.is_file(), reason="embedder not built (winnow models build)")
def test_minilm_counts_wordpieces_without_specials() -> None:
    """The MiniLM counter matches the tokenizer's own count, without [CLS]/[SEP], uncut."""
    counter = token_counter(MODELS, "auto")
    assert isinstance(counter, MiniLMTokenCounter)
    long = "the " * 600
    tok = Tokenizer.from_file(str(TOKENIZER))
    tok.no_truncation()
    expected = len(tok.encode(long, add_special_tokens=False).ids)
    assert counter.count([long]) == [expected] and expected == 600
