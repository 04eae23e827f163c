"""MiniLM tokenisation with ``tokenizers`` (no transformers at run time).

The packaged ``tokenizer.json`` bakes in fixed padding and truncation at 128 tokens; we reset both
so ids match sentence-transformers at our own maximum, and pad each length bucket ourselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Encoded:
    """Token ids of one text, already truncated, and whether truncation cut anything."""

    ids: list[int]
    truncated: bool


class TextTokenizer:
    """Tokenises texts to at most ``max_tokens`` ids (special tokens included)."""

    def __init__(self, path: Path, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self._tok = Tokenizer.from_file(str(path))
        self._tok.no_padding()
        self._tok.enable_truncation(max_tokens)
        # [PAD] is id 0 in the BERT vocabulary; attention masks hide it.
        self.pad_id = 0

    def encode(self, texts: list[str]) -> list[Encoded]:
        """Encode a batch; ``truncated`` is set when a text had more than ``max_tokens`` tokens."""
        out: list[Encoded] = []
        limit = self.max_tokens
        for enc in self._tok.encode_batch(texts):
            ids = enc.ids
            # tokenizers keeps what truncation cut in ``overflowing`` (no second, untruncated
            # pass); building that list is costly, so only texts at the limit are asked.
            out.append(Encoded(ids=ids, truncated=len(ids) >= limit and bool(enc.overflowing)))
        return out

    def pad(self, encoded: list[Encoded]) -> tuple[IntArray, IntArray]:
        """Right-pad a bucket to its longest member: ``(input_ids, attention_mask)``."""
        width = max(len(e.ids) for e in encoded)
        ids = np.full((len(encoded), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, enc in enumerate(encoded):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        return ids, mask

    def __call__(self, texts: list[str]) -> tuple[IntArray, IntArray]:
        """Encode and pad in one go (tests, benchmarks and the export reference)."""
        return self.pad(self.encode(texts))
