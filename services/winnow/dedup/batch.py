"""Dedup signatures of many texts at once: the same bytes as ``NearDuplicateIndex.signature_of``.

Why: one text's MinHash is a handful of small numpy calls (~0.3 ms, mostly call overhead);
loading a million stored examples (``winnow bench growth``, a backfill) would spend minutes
there. Here the shingles of a few hundred texts are hashed in one pass over their concatenated
bytes, permuted in one outer product and reduced per text with ``minimum.reduceat``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from winnow.dedup.minhash import (
    SHINGLE_CHARS,
    U64,
    MinHasher,
    _all_shingle_hashes,
    _mix,
    normalise_text,
)

CHUNK_SHINGLES = 8_000
"""Bytes of text (about as many shingles) permuted at once: 8,000 x 40 permutations x 8 bytes
(2.5 MiB) stays in cache; bigger blocks were slower."""


def _shingles(norms: list[bytes], k: int) -> tuple[U64, npt.NDArray[np.intp]]:
    """Every text's k-gram hashes (as ``_all_shingle_hashes``), concatenated; and where each
    text's run starts. Texts shorter than ``k`` bytes take the one-text path (padding)."""
    parts: list[U64] = []
    starts = np.zeros(len(norms), dtype=np.intp)
    data = np.frombuffer(b"".join(norms), dtype=np.uint8).astype(np.uint64)
    lengths = np.fromiter((len(n) for n in norms), dtype=np.intp, count=len(norms))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    # Rolling k-gram hash over all the bytes; windows that cross a text boundary are dropped.
    n = max(data.size - k + 1, 0)
    h = data[:n].copy()
    for j in range(1, k):
        h *= np.uint64(1099511628211)
        h += data[j : j + n]
    h = _mix(h)
    at = 0
    for i, norm in enumerate(norms):
        starts[i] = at
        if len(norm) < k:
            part = _all_shingle_hashes(norm.decode("utf-8"), k)
        else:
            part = h[offsets[i] : offsets[i + 1] - k + 1]
        parts.append(part)
        at += part.size
    return np.concatenate(parts), starts


def signatures_of(hasher: MinHasher, texts: Sequence[str]) -> list[bytes]:
    """``encode_signature(*hasher.sketch_of(t))`` for every text, computed in bulk."""
    out: list[bytes] = []
    group: list[str] = []
    size = 0
    for text in texts:
        group.append(text)
        size += len(text)
        if size >= CHUNK_SHINGLES:
            out += _signatures(hasher, group)
            group, size = [], 0
    if group:
        out += _signatures(hasher, group)
    return out


def _signatures(hasher: MinHasher, texts: list[str]) -> list[bytes]:
    norms = [normalise_text(t).encode("utf-8") for t in texts]
    exact = np.array(
        [int.from_bytes(hashlib.blake2b(n, digest_size=8).digest(), "big") for n in norms],
        dtype=np.uint64,
    )
    shingles, starts = _shingles(norms, SHINGLE_CHARS)
    a: U64 = hasher._a  # type: ignore[attr-defined]
    b: U64 = hasher._b  # type: ignore[attr-defined]
    salts: U64 = hasher._salts  # type: ignore[attr-defined]
    permuted = np.multiply.outer(shingles, a)
    permuted += b
    permuted >>= np.uint64(32)
    sig = np.minimum.reduceat(permuted, starts, axis=0).astype(np.uint32)  # (texts, perms)
    rows = sig.reshape(len(texts), hasher.bands, hasher.rows).astype(np.uint64)
    acc = np.broadcast_to(salts, (len(texts), hasher.bands)).copy()
    for j in range(hasher.rows):
        acc = _mix(acc ^ rows[:, :, j])
    keys = np.concatenate([exact[:, None], acc], axis=1).astype(">u8").view(np.uint8)
    blobs = np.concatenate([keys, (sig & np.uint32(0xFF)).astype(np.uint8)], axis=1)
    return [row.tobytes() for row in blobs]
