"""Length bucketing inside the embedder."""

from __future__ import annotations

from pathlib import Path

from winnow.scoring.embedder import Embedder
from winnow.scoring.runtime import CPU, SessionConfig


class TestBuckets:
    def test_buckets_cover_each_text_once_and_never_mix_lengths(self, models_dir: Path) -> None:
        """Every text is in exactly one chunk; a chunk spans one power-of-two length bucket."""
        emb = Embedder.load(models_dir, SessionConfig(providers=[CPU]), batch_max=3)
        texts = ["hi", "refund please " * 60, "where is my order?", "ok " * 20, "a", "b " * 40]
        encoded = emb.tokenizer.encode(texts)
        chunks = emb.buckets(encoded)
        assert sorted(i for c in chunks for i in c) == list(range(len(texts)))
        assert all(len(c) <= 3 for c in chunks)
        for chunk in chunks:
            lengths = [len(encoded[i].ids) for i in chunk]
            assert max(lengths) <= 2 * max(16, min(lengths))
        # The two shortest texts share a chunk; the 120-token text is not padded with them.
        first = chunks[0]
        assert {0, 4} <= set(first)
        assert 1 not in first
