"""Exact (normalised-text) and near-duplicate detection, incremental against the whole store.

Text: the prompt turns and the answer, casefolded, NFKC, digit runs as ``0``, punctuation and
spacing collapsed (so PII placeholders such as ``<EMAIL>`` or differing numbers compare equal).

* Exact: a 64-bit BLAKE2b of the normalised text -> ``NORMALISED_DUPLICATE``.
* Near: MinHash (``bands * rows`` permutations, multiply-shift hashing in numpy) over character
  5-gram shingles, LSH with ``bands`` bands finds candidates; a candidate is a duplicate when the
  exact Jaccard similarity of the two shingle sets reaches the threshold -> ``NEAR_DUPLICATE``.
  Verification needs the candidates' text: the curator passes a ``fetch`` that reads it from the
  store by id prefix (examples of the running batch are kept until :meth:`forget_recent`).
  Without ``fetch`` a band hit on a stored candidate counts (LSH alone). Texts of different
  kinds (an SFT answer and a thumbs-down on it) are never near duplicates: they are votes on one
  label, resolved at export (``winnow.export.conflicts``), not copies.

Why verify: LSH alone is a soft threshold. With 8 bands x 10 rows it gave precision 0.97 and
recall 0.91 on planted copies (winnow.bench.dedup_table), because a templated support corpus is
full of pairs at Jaccard 0.6-0.75; 98% of planted copies sit above 0.8. Loose bands (10 x 4: a
pair at 0.75 becomes a candidate 98% of the time) plus exact verification keep both high.

Memory: per tenant, sorted numpy arrays: the exact key and its owner (16 bytes) and, per band, one
uint64 packing a 32-bit band key with the owner's 32-bit id prefix (8 bytes): 96 bytes an example
with 10 bands. Signatures and text are never kept; the store keeps each example's keys
(``dedup_sig``) so an index can be rebuilt on start or on rebalance without re-reading text.

Scope and replicas: an index is per tenant; the curator replica that owns a partition must see
every example that could be a near duplicate of another, so the scored topic is keyed by
:func:`dedup_partition_key` (the tenant) and each replica rebuilds its tenants from the store.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from winnow.events import ChatMessage
from winnow.example import Example, ExampleKind
from winnow.reasons import DropReason
from winnow.stages.ticket import judged_turns_of

U64 = npt.NDArray[np.uint64]

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
_MASK64 = (1 << 64) - 1
SHINGLE_CHARS = 5
MAX_CANDIDATES = 2048
"""Most stored candidates verified for one example (those sharing the most bands first)."""
FETCH_CHUNK = 256
"""Candidates whose text is fetched per store query (two bind parameters each)."""


def normalise_text(text: str) -> str:
    """Casefold, NFKC, digit runs to ``0``, punctuation and whitespace to single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIGITS.sub("0", text)
    return _PUNCT.sub(" ", text).strip()


def dedup_text(example: Example) -> str:
    """The text duplicates are judged on: the kind, every prompt turn, the answer (and rejected).

    The kind keeps a correction's preference pair and its SFT copy apart (same prompt and answer,
    different training artefacts); a pair's rejected answer is part of what makes it distinct.
    """
    return dedup_text_of(example.kind, example.messages, example.chosen, example.rejected)


def dedup_text_of(
    kind: ExampleKind, messages: Sequence[ChatMessage], chosen: str | None, rejected: str | None
) -> str:
    """:func:`dedup_text` from an example's stored parts (the store's verification path).

    A weighted support conversation is judged on what it trains: each substantive agent turn
    with its context (issue statement and the customer message it answers). Per-turn siblings of
    one ticket then differ by their turns, and two tickets differing only in greetings, names and
    goodbyes are near-duplicates.
    """
    judged = judged_turns_of(messages) if any(m.weight is not None for m in messages) else []
    if judged and kind is not ExampleKind.PREFERENCE:
        parts = [kind.value, *(t for j in judged for t in (j.context, j.answer))]
    elif kind is ExampleKind.PREFERENCE:
        parts = [kind.value, *(m.content for m in messages), chosen or ""]
    else:
        parts = [kind.value, *(m.content for m in messages)]
    if rejected is not None:
        parts.append(rejected)
    return "\n".join(parts)


def _kind_line(text: str) -> str:
    """The kind a :func:`dedup_text` starts with."""
    return text.split("\n", 1)[0]


def dedup_partition_key(example: Example) -> str:
    """Kafka key for the curator's input: every possible duplicate pair shares it (the tenant)."""
    return example.tenant


def _mix(x: U64) -> U64:
    """splitmix64 finaliser, vectorised (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def shingle_hashes(normalised: str, k: int = SHINGLE_CHARS) -> U64:
    """Distinct 64-bit hashes of the character k-grams of ``normalised`` (UTF-8 bytes)."""
    data = np.frombuffer(normalised.encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    if data.size == 0:
        return np.zeros(1, dtype=np.uint64)
    if data.size < k:
        data = np.concatenate([data, np.zeros(k - data.size, dtype=np.uint64)])
    n = data.size - k + 1
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * np.uint64(1099511628211) + data[j : j + n]
    return np.unique(_mix(h))


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
        with np.errstate(over="ignore"):
            permuted = (hashes[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)
        out: npt.NDArray[np.uint32] = permuted.min(axis=0).astype(np.uint32)
        return out

    def band_keys(self, signature: npt.NDArray[np.uint32]) -> U64:
        """One 64-bit key per band: a hash of the band's rows, salted by the band's index."""
        salts: U64 = self._salts  # type: ignore[attr-defined]
        rows = signature.reshape(self.bands, self.rows).astype(np.uint64)
        acc = salts.copy()
        with np.errstate(over="ignore"):
            for j in range(self.rows):
                acc = _mix(acc ^ rows[:, j])
        return acc

    def keys_of(self, text: str) -> tuple[int, U64]:
        """(exact key, band keys) of a raw text."""
        norm = normalise_text(text)
        exact = int.from_bytes(hashlib.blake2b(norm.encode(), digest_size=8).digest(), "big")
        return exact, self.band_keys(self.signature(shingle_hashes(norm)))


def threshold_bands(threshold: float, max_bands: int = 10) -> tuple[int, int]:
    """(bands, rows): the most rows (fewest candidates to verify) that still make a pair at the
    threshold a candidate with probability >= 0.97, with at most ``max_bands`` (memory)."""
    for rows in range(16, 0, -1):
        p = 1 - (1 - threshold**rows) ** max_bands
        if p >= 0.97:
            return max_bands, rows
    return max_bands, 1


FetchTexts = Callable[[str, list[str]], list[str]]
"""(tenant, id prefixes) -> dedup texts of stored examples whose id starts with a prefix."""


def _prefix(owner32: int) -> str:
    return f"{owner32:08x}"


def owner32_of(example_id: str) -> int:
    """The 32-bit owner id kept in band entries: the first 8 hex digits of the example id."""
    return int(example_id[:8], 16)


class _SortedKeys:
    """A set of uint64 keys with optional uint64 values: sorted arrays plus a small buffer."""

    def __init__(self, *, with_values: bool) -> None:
        self.with_values = with_values
        self.keys: U64 = np.zeros(0, dtype=np.uint64)
        self.values: U64 = np.zeros(0, dtype=np.uint64)
        self._pending: dict[int, int] = {}

    def __len__(self) -> int:
        return int(self.keys.size) + len(self._pending)

    def get(self, key: int) -> int | None:
        """The value stored with ``key``, or None when it is absent."""
        if key in self._pending:
            return self._pending[key]
        i = int(np.searchsorted(self.keys, np.uint64(key)))
        if i < self.keys.size and int(self.keys[i]) == key:
            return int(self.values[i]) if self.with_values else 0
        return None

    def add(self, keys: Iterable[int], value: int = 0) -> None:
        """Add keys (a key already present keeps its first value)."""
        for k in keys:
            if k not in self._pending and self.get(k) is None:
                self._pending[k] = value
        if len(self._pending) > max(1024, self.keys.size // 16):
            self.flush()

    def flush(self) -> None:
        """Merge the buffer into the sorted arrays."""
        if not self._pending:
            return
        new_k = np.fromiter(self._pending.keys(), dtype=np.uint64, count=len(self._pending))
        keys = np.concatenate([self.keys, new_k])
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        if self.with_values:
            new_v = np.fromiter(self._pending.values(), dtype=np.uint64, count=len(new_k))
            self.values = np.concatenate([self.values, new_v])[order]
        self._pending = {}

    def nbytes(self) -> int:
        """Bytes held by the arrays (the buffer is flushed first)."""
        self.flush()
        return int(self.keys.nbytes + self.values.nbytes)


class _BandEntries:
    """(32-bit band key, 32-bit owner) pairs packed in one sorted uint64 array, plus a buffer."""

    def __init__(self) -> None:
        self.packed: U64 = np.zeros(0, dtype=np.uint64)
        self._pending: list[int] = []

    def owners(self, keys: U64) -> Counter[int]:
        """Owners of the entries whose band key is one of ``keys`` (low 32 bits used), each with
        the number of those bands it shares."""
        lows = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint64)
        wanted = set(lows.tolist())
        found: Counter[int] = Counter(p & 0xFFFFFFFF for p in self._pending if (p >> 32) in wanted)
        if self.packed.size:
            lo = np.searchsorted(self.packed, lows << np.uint64(32))
            hi = np.searchsorted(self.packed, (lows + np.uint64(1)) << np.uint64(32))
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                found.update(int(v) & 0xFFFFFFFF for v in self.packed[a:b].tolist())
        return found

    def add(self, keys: U64, owner32: int) -> None:
        self._pending += [((int(k) & 0xFFFFFFFF) << 32) | owner32 for k in keys]
        if len(self._pending) > max(4096, self.packed.size // 16):
            self.flush()

    def flush(self) -> None:
        if self._pending:
            new = np.fromiter(self._pending, dtype=np.uint64, count=len(self._pending))
            self.packed = np.sort(np.concatenate([self.packed, new]))
            self._pending = []

    def nbytes(self) -> int:
        self.flush()
        return int(self.packed.nbytes)


class _TenantIndex:
    def __init__(self) -> None:
        # normalised-text key -> owner (first 64 bits of the example id); band entries
        self.exact = _SortedKeys(with_values=True)
        self.bands = _BandEntries()

    def nbytes(self) -> int:
        return self.exact.nbytes() + self.bands.nbytes()


def _owner(example_id: str) -> int:
    return int(example_id[:16], 16) if len(example_id) >= 16 else hash(example_id) & _MASK64


def encode_signature(exact: int, bands: U64) -> bytes:
    """Bytes stored in ``examples.dedup_sig``: the exact key, then the band keys (big-endian)."""
    return exact.to_bytes(8, "big") + bands.astype(">u8").tobytes()


def decode_signature(blob: bytes) -> tuple[int, U64]:
    """Inverse of :func:`encode_signature`."""
    arr = np.frombuffer(blob, dtype=">u8").astype(np.uint64)
    return int(arr[0]), arr[1:]


@dataclass(frozen=True)
class DedupRow:
    """What a rebuild needs of one stored example."""

    tenant: str
    id: str
    dedup_sig: bytes


class NearDuplicateIndex:
    """Per-tenant exact and near-duplicate index over accepted examples.

    Call :meth:`check_and_add` only on examples that passed every other filter, in the order they
    are written, and :meth:`rebuild` from the store on start and after a rebalance: decisions then
    do not depend on the replica or on restarts. A redelivered example (same id) is not its own
    duplicate. ``threshold`` is the exact Jaccard similarity from which two texts are duplicates.
    """

    def __init__(
        self, threshold: float = 0.75, *, seed: int = 1, max_candidates: int = MAX_CANDIDATES
    ) -> None:
        bands, rows = threshold_bands(threshold)
        self.threshold = threshold
        self.max_candidates = max_candidates
        self.capped_checks = 0
        """Examples whose candidates were cut to ``max_candidates`` (a metric of the curator)."""
        self.hasher = MinHasher(bands=bands, rows=rows, seed=seed)
        self._tenants: dict[str, _TenantIndex] = {}
        # Texts added since the last forget_recent(): not in the store yet, so fetch misses them.
        self._recent: dict[tuple[str, int], list[str]] = {}
        self._shingle_cache: dict[int, frozenset[int]] = {}

    def __len__(self) -> int:
        return sum(len(t.exact) for t in self._tenants.values())

    def signature_of(self, example: Example) -> bytes:
        """The ``dedup_sig`` bytes to store with ``example``."""
        return encode_signature(*self.hasher.keys_of(dedup_text(example)))

    def check_and_add(self, example: Example, fetch: FetchTexts | None = None) -> DropReason | None:
        """Why ``example`` duplicates an indexed one, or None after adding it to the index.

        Candidates added since :meth:`forget_recent` are verified against their text here;
        stored ones through ``fetch``; without ``fetch`` a band hit on a stored one suffices.
        """
        return self.check_and_sign(example, fetch)[0]

    def check_and_sign(
        self, example: Example, fetch: FetchTexts | None = None
    ) -> tuple[DropReason | None, bytes | None]:
        """:meth:`check_and_add`, plus the ``dedup_sig`` of a kept example (MinHash runs once)."""
        text = dedup_text(example)
        exact, bands = self.hasher.keys_of(text)
        index = self._tenants.setdefault(example.tenant, _TenantIndex())
        owner = _owner(example.id)
        signature = encode_signature(exact, bands)
        found = index.exact.get(exact)
        if found is not None:
            return (None, signature) if found == owner else (DropReason.NORMALISED_DUPLICATE, None)
        hits = index.bands.owners(bands)
        hits.pop(owner32_of(example.id), None)
        # Most shared bands first: a true near duplicate shares ~3 of 10 bands, a chance
        # candidate one, so the cap below rarely cuts one that matters.
        candidates = sorted(hits, key=lambda o: (-hits[o], o))
        if candidates and self._is_near(example.tenant, text, candidates, fetch):
            return DropReason.NEAR_DUPLICATE, None
        index.exact.add([exact], owner)
        index.bands.add(bands, owner32_of(example.id))
        self._recent.setdefault((example.tenant, owner32_of(example.id)), []).append(text)
        return None, signature

    def _is_near(self, tenant: str, text: str, owners: list[int], fetch: FetchTexts | None) -> bool:
        mine = self._shingles(text)
        kind = _kind_line(text)

        def near(other: str) -> bool:
            # Another kind is another training artefact: a thumbs-down on an answer someone else
            # liked is a label conflict (resolved at export), not a duplicate to drop silently.
            if _kind_line(other) != kind:
                return False
            theirs = self._shingles(other)
            return len(mine & theirs) >= self.threshold * len(mine | theirs)

        if any(near(t) for o in owners for t in self._recent.get((tenant, o), [])):
            return True
        stored = [o for o in owners if (tenant, o) not in self._recent]
        if not stored:
            return False
        if fetch is None:
            return True  # no text to verify against: the band hit decides
        if len(stored) > self.max_candidates:
            # Bounded work per example: a store of templated text can hand one example tens of
            # thousands of one-band candidates (33k seen at 1M stored by `winnow bench growth`).
            self.capped_checks += 1
            stored = stored[: self.max_candidates]
        for i in range(0, len(stored), FETCH_CHUNK):
            if any(
                near(t) for t in fetch(tenant, [_prefix(o) for o in stored[i : i + FETCH_CHUNK]])
            ):
                return True
        return False

    def _shingles(self, text: str) -> frozenset[int]:
        # Templated corpora verify against the same popular candidates again and again.
        key = hash(text)
        found = self._shingle_cache.get(key)
        if found is None:
            if len(self._shingle_cache) >= 4096:
                self._shingle_cache.clear()
            found = frozenset(shingle_hashes(normalise_text(text)).tolist())
            self._shingle_cache[key] = found
        return found

    def forget_recent(self) -> None:
        """Drop the texts of the batch just written: the store answers for them from now on."""
        self._recent = {}

    def rebuild(
        self, rows: Iterable[DedupRow], *, owns: Callable[[str], bool] | None = None
    ) -> int:
        """Replace the index with the stored examples' keys (of the tenants ``owns`` accepts)."""
        self._tenants = {}
        self._recent = {}
        n = 0
        for row in rows:
            if owns is not None and not owns(row.tenant):
                continue
            exact, bands = decode_signature(row.dedup_sig)
            index = self._tenants.setdefault(row.tenant, _TenantIndex())
            index.exact.add([exact], _owner(row.id))
            index.bands.add(bands, owner32_of(row.id))
            n += 1
        for index in self._tenants.values():
            index.exact.flush()
            index.bands.flush()
        return n

    def nbytes(self) -> int:
        """Bytes of the in-memory key arrays."""
        return sum(t.nbytes() for t in self._tenants.values())
