"""MiniLM tokenisation with ``tokenizers`` (no transformers at run time): texts and pairs.

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


# A context as long as a book still keeps its most recent turns: ids beyond this are dropped from
# the left before the pair budget is applied (tokenising them costs nothing the model sees).
MAX_TEXT_TOKENS = 2048


def fit_pair(
    context: list[int], response: list[int], max_length: int, context_min_frac: float
) -> tuple[list[int], list[int]]:
    """Cut a (context, response) pair of ids (no special tokens) to ``max_length - 3`` ids.

    The context keeps its LAST ids (the turns nearest the response), the response its FIRST; the
    context is guaranteed ``context_min_frac`` of the budget when it is that long, and takes back
    whatever the response leaves unused. Identical to the cross-encoder's training encoder.
    """
    budget = max_length - 3
    context_min = min(len(context), int(budget * context_min_frac))
    kept_response = min(len(response), budget - context_min)
    kept_context = min(len(context), budget - kept_response)
    tail = context[len(context) - kept_context :] if kept_context > 0 else []
    return tail, response[:kept_response]


class PairTokenizer:
    """``[CLS] context [SEP] response [SEP]`` with token types 0/1, context cut from the left."""

    def __init__(self, path: Path, max_length: int, context_min_frac: float) -> None:
        self.max_length = max_length
        self.context_min_frac = context_min_frac
        self._tok = Tokenizer.from_file(str(path))
        self._tok.no_padding()
        self._tok.no_truncation()
        self.cls_id, self.sep_id, self.pad_id = (
            self._special(token) for token in ("[CLS]", "[SEP]", "[PAD]")
        )

    def _special(self, token: str) -> int:
        found = self._tok.token_to_id(token)
        if found is None:
            raise ValueError(f"tokenizer has no {token} token: not a BERT WordPiece tokenizer")
        return int(found)

    def ids(self, texts: list[str], *, keep_tail: bool) -> list[list[int]]:
        """Ids without special tokens; over ``MAX_TEXT_TOKENS`` keeps the tail or the head."""
        out: list[list[int]] = []
        for enc in self._tok.encode_batch(texts, add_special_tokens=False):
            ids = enc.ids
            if len(ids) > MAX_TEXT_TOKENS:
                ids = ids[-MAX_TEXT_TOKENS:] if keep_tail else ids[:MAX_TEXT_TOKENS]
            out.append(ids)
        return out

    def __call__(
        self, contexts: list[str], responses: list[str]
    ) -> tuple[IntArray, IntArray, IntArray]:
        """``(input_ids, attention_mask, token_type_ids)``, right-padded to the longest pair."""
        pairs = [
            fit_pair(c, r, self.max_length, self.context_min_frac)
            for c, r in zip(
                self.ids(contexts, keep_tail=True),
                self.ids(responses, keep_tail=False),
                strict=True,
            )
        ]
        width = max(len(c) + len(r) + 3 for c, r in pairs)
        ids = np.full((len(pairs), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(pairs), width), dtype=np.int64)
        types = np.zeros((len(pairs), width), dtype=np.int64)
        for row, (ctx, resp) in enumerate(pairs):
            seq = [self.cls_id, *ctx, self.sep_id, *resp, self.sep_id]
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
            types[row, len(ctx) + 2 : len(seq)] = 1
        return ids, mask, types
