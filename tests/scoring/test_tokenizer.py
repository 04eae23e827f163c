"""Tokenisation parity with the reference tokenizer, truncation flags and padding."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from winnow.scoring.build.export import weights_dir
from winnow.scoring.build.samples import sample_texts
from winnow.scoring.tokenizer import TextTokenizer


class TestTokenizer:
    def test_ids_match_transformers(self, models_dir: Path) -> None:
        """Our ids equal the HF fast tokenizer's (as sentence-transformers calls it) at 256."""
        from transformers import AutoTokenizer

        ours = TextTokenizer(models_dir / "embedder" / "tokenizer.json", 256)
        ref = AutoTokenizer.from_pretrained(str(weights_dir()))
        texts = sample_texts()
        expected = ref(texts, truncation=True, max_length=256)["input_ids"]
        assert [e.ids for e in ours.encode(texts)] == expected

    def test_truncation_flag(self, models_dir: Path) -> None:
        """Only texts longer than max_tokens are cut and flagged; a text at the limit is not."""
        tok = TextTokenizer(models_dir / "embedder" / "tokenizer.json", 10)
        # "one two ... eight" is 8 words + [CLS] + [SEP] = exactly 10 tokens.
        at_limit = "one two three four five six seven eight"
        short, exact, long = tok.encode(["hello", at_limit, at_limit + " nine"])
        assert not short.truncated
        assert len(short.ids) == 3
        assert not exact.truncated
        assert len(exact.ids) == 10
        assert long.truncated
        assert len(long.ids) == 10
        assert long.ids[-1] == 102  # [SEP] is kept at the end of a cut text

    def test_pad_bucket(self, models_dir: Path) -> None:
        """Padding fills with id 0 to the longest member and masks the padding out."""
        tok = TextTokenizer(models_dir / "embedder" / "tokenizer.json", 256)
        ids, mask = tok(["a", "a much longer sentence here"])
        assert ids.shape == mask.shape == (2, 7)
        assert mask[0].tolist() == [1, 1, 1, 0, 0, 0, 0]
        assert (ids[mask == 0] == 0).all()
        assert ids.dtype == np.int64
