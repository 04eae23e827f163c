"""Bulk dedup signatures are byte for byte the index's own."""

from __future__ import annotations

import pytest

from winnow.bench.corpus import bench_pairs, make_example
from winnow.dedup import batch
from winnow.dedup.batch import signatures_of
from winnow.dedup.index import NearDuplicateIndex, dedup_text, encode_signature


def test_bulk_signatures_equal_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real and recombined texts, plus empty, short and non-ASCII ones, across chunk edges."""
    monkeypatch.setattr(batch, "CHUNK_SHINGLES", 1000)  # several chunks
    index = NearDuplicateIndex()
    texts = [dedup_text(make_example(q, a, n=i)) for i, (q, a) in enumerate(bench_pairs(300, 2))]
    texts += ["", "ab", "Café №5 ﬁle", "12345", "éééé", "a" * 5, "!!"]
    one_by_one = [encode_signature(*index.hasher.sketch_of(t)) for t in texts]
    assert signatures_of(index.hasher, texts) == one_by_one
