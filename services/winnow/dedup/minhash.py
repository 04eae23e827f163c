"""MinHash over character shingles: text normalisation, shingle hashes, signatures, LSH bands.

The hashing half of the duplicate index (``winnow.dedup.index`` keeps the per-tenant index and
its verification; ``winnow.dedup.batch`` computes the same signatures for many texts at once).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
U8 = npt.NDArray[np.uint8]

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
SHINGLE_CHARS = 5
SKETCH_BITS = 8
"""Bits of each MinHash value kept in memory (b-bit MinHash): 40 bytes an example."""


def normalise_text(text: str) -> str:
    """Casefold, NFKC, digit runs to ``0``, punctuation and whitespace to single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIGITS.sub("0", text)
    return _PUNCT.sub(" ", text).strip()


def _mix(x: U64) -> U64:
    """splitmix64 finaliser, vectorised (uint64 arrays wrap silently: no errstate needed, and
    entering one costs more than the arithmetic on arrays this small)."""
    x = x ^ (x >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _all_shingle_hashes(normalised: str, k: int) -> U64:
    """64-bit hashes of every character k-gram, repeats included (MinHash does not mind)."""
    data = np.frombuffer(normalised.encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    if data.size == 0:
        return np.zeros(1, dtype=np.uint64)
    if data.size < k:
        data = np.concatenate([data, np.zeros(k - data.size, dtype=np.uint64)])
    n = data.size - k + 1
    h = data[:n].copy()
    for j in range(1, k):
        h *= np.uint64(1099511628211)
        h += data[j : j + n]
    return _mix(h)


def shingle_hashes(normalised: str, k: int = SHINGLE_CHARS) -> U64:
    """Distinct 64-bit hashes of the character k-grams of ``normalised`` (UTF-8 bytes)."""
    return np.unique(_all_shingle_hashes(normalised, k))


@dataclass(frozen=True)
class MinHasher:
    """MinHash signatures and LSH band keys; the seed fixes the permutations (deterministic)."""

    bands: int = 10
    rows: int = 4
    seed: int = 1

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        n = self.bands * self.rows
        object.__setattr__(self, "_a", rng.integers(1, 2**63, n, dtype=np.uint64) | np.uint64(1))
        object.__setattr__(self, "_b", rng.integers(0, 2**63, n, dtype=np.uint64))
        salts = rng.integers(0, 2**63, self.bands, dtype=np.uint64)
        object.__setattr__(self, "_salts", salts)

    def signature(self, hashes: U64) -> npt.NDArray[np.uint32]:
        """The MinHash signature (``bands * rows`` 32-bit minima) of a set of shingle hashes."""
        a: U64 = self._a  # type: ignore[attr-defined]
        b: U64 = self._b  # type: ignore[attr-defined]
        # In place: one (shingles x permutations) array instead of three temporaries.
        permuted = np.multiply.outer(hashes, a)
        permuted += b
        permuted >>= np.uint64(32)
        out: npt.NDArray[np.uint32] = permuted.min(axis=0).astype(np.uint32)
        return out

    def band_keys(self, signature: npt.NDArray[np.uint32]) -> U64:
        """One 64-bit key per band: a hash of the band's rows, salted by the band's index."""
        salts: U64 = self._salts  # type: ignore[attr-defined]
        rows = signature.reshape(self.bands, self.rows).astype(np.uint64)
        acc = salts.copy()
        for j in range(self.rows):
            acc = _mix(acc ^ rows[:, j])
        return acc

    def keys_of(self, text: str) -> tuple[int, U64]:
        """(exact key, band keys) of a raw text."""
        exact, bands, _ = self.sketch_of(text)
        return exact, bands

    def sketch_of(self, text: str) -> tuple[int, U64, U8]:
        """(exact key, band keys, b-bit sketch) of a raw text: the sketch keeps the low
        ``SKETCH_BITS`` bits of every MinHash value, enough to estimate similarity in memory."""
        norm = normalise_text(text)
        exact = int.from_bytes(hashlib.blake2b(norm.encode(), digest_size=8).digest(), "big")
        signature = self.signature(_all_shingle_hashes(norm, SHINGLE_CHARS))
        bits: U8 = (signature & np.uint32(0xFF)).astype(np.uint8)
        return exact, self.band_keys(signature), bits


def threshold_bands(threshold: float, max_bands: int = 10) -> tuple[int, int]:
    """(bands, rows): the most rows (fewest candidates to verify) that still make a pair at the
    threshold a candidate with probability >= 0.97, with at most ``max_bands`` (memory)."""
    for rows in range(16, 0, -1):
        p = 1 - (1 - threshold**rows) ** max_bands
        if p >= 0.97:
            return max_bands, rows
    return max_bands, 1
