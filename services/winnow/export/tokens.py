"""Token counts for manifests, and the compute-optimal model size those tokens could train.

Two counters, and the manifest says which one was used:

- ``minilm``: the embedder's WordPiece tokenizer (``models/embedder/tokenizer.json``, no special
  tokens, no truncation). It is a proxy: a target model's own tokenizer will differ by some tens
  of percent, but it is a real subword count and costs no download.
- ``chars``: one token per 4 characters, rounded up per text (the usual rule of thumb for English
  with BPE tokenizers), used when the embedder has not been built.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, Protocol

from tokenizers import Tokenizer

from winnow.example import Example
from winnow.export.exceptions import ExportError
from winnow.scoring.artefacts import TOKENIZER, embedder_dir, sha256_file

TOKENS_PER_PARAMETER = 20
"""Chinchilla (Hoffmann et al., 2022): compute-optimal training uses ~20 tokens per parameter."""

CHARS_PER_TOKEN = 4


class TokenCounter(Protocol):
    """Counts tokens of texts; ``describe`` names the method for the manifest."""

    method: str

    def count(self, texts: list[str]) -> list[int]:
        """Tokens of each text."""
        ...

    def describe(self) -> dict[str, str]:
        """Method and tokenizer identity, for the manifest."""
        ...


class CharTokenCounter:
    """One token per 4 characters, rounded up per text."""

    method = "chars"

    def count(self, texts: list[str]) -> list[int]:
        """Tokens of each text."""
        return [math.ceil(len(t) / CHARS_PER_TOKEN) for t in texts]

    def describe(self) -> dict[str, str]:
        """Method and rule, for the manifest."""
        return {"method": self.method, "tokenizer": f"ceil(chars / {CHARS_PER_TOKEN})"}


class MiniLMTokenCounter:
    """The MiniLM WordPiece tokenizer, without special tokens or truncation."""

    method = "minilm"

    def __init__(self, path: Path) -> None:
        self._tok = Tokenizer.from_file(str(path))
        self._tok.no_padding()
        self._tok.no_truncation()
        self._version = sha256_file(path)[:16]

    def count(self, texts: list[str]) -> list[int]:
        """Tokens of each text."""
        if not texts:
            return []
        return [len(e.ids) for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def describe(self) -> dict[str, str]:
        """Method and the tokenizer file's hash, for the manifest."""
        return {"method": self.method, "tokenizer": f"all-MiniLM-L6-v2 sha256:{self._version}"}


def token_counter(
    models_dir: Path, choice: Literal["auto", "minilm", "chars"] = "auto"
) -> TokenCounter:
    """The counter ``choice`` names; ``auto`` is MiniLM when its tokenizer file is there."""
    path = embedder_dir(models_dir) / TOKENIZER
    if choice == "chars" or (choice == "auto" and not path.is_file()):
        return CharTokenCounter()
    if not path.is_file():
        raise ExportError(f"no tokenizer at {path}: run `winnow models build` or use `chars`")
    return MiniLMTokenCounter(path)


def example_texts(example: Example) -> list[str]:
    """Every text of an example: messages, then chosen and rejected responses."""
    texts = [m.content for m in example.messages]
    texts += [t for t in (example.chosen, example.rejected) if t is not None]
    return texts


def example_tokens(counter: TokenCounter, example: Example) -> int:
    """Tokens of every text of an example."""
    return sum(counter.count(example_texts(example)))


def compute_optimal_parameters(tokens: int) -> int:
    """Parameters a model trained compute-optimally on ``tokens`` tokens would have."""
    return tokens // TOKENS_PER_PARAMETER
