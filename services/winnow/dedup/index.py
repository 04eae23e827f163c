"""Exact (normalised-text) and near-duplicate detection, incremental against the whole store.

Text: the prompt turns and the answer, casefolded, NFKC, digit runs as ``0``, punctuation and
spacing collapsed (so PII placeholders such as ``<EMAIL>`` or differing numbers compare equal).

* Exact: a 64-bit BLAKE2b of the normalised text -> ``NORMALISED_DUPLICATE``.
* Near: MinHash (``bands * rows`` permutations, multiply-shift hashing in numpy) over character
  5-gram shingles, LSH with ``bands`` bands finds candidates; a candidate is a duplicate when the
  exact Jaccard similarity of the two shingle sets reaches the threshold -> ``NEAR_DUPLICATE``.
  Texts of different kinds (an SFT answer and a thumbs-down on it) are never near duplicates:
  they are votes on one label, resolved at export (``winnow.export.conflicts``), not copies.

Why verify: LSH alone is a soft threshold. With 8 bands x 10 rows it gave precision 0.97 and
recall 0.91 on planted copies (winnow.bench.dedup_table), because a templated support corpus is
full of pairs at Jaccard 0.6-0.75; 98% of planted copies sit above 0.8. Loose bands (10 x 4: a
pair at 0.75 becomes a candidate 98% of the time) plus exact verification keep both high.

Why sketches: loose bands make a pair at 0.5 a candidate half the time, so candidates grow with
the store (hundreds at 100k in a templated corpus), and verifying each needs its text: a store
read. The index therefore keeps the low 8 bits of each MinHash value (b-bit MinHash, 40 bytes)
and estimates every candidate's similarity in memory; only candidates estimated within
``VERIFY_MARGIN`` of the threshold are verified exactly (text of the running batch in memory,
stored text through the curator's ``fetch``, which reads it from the store by id prefix).
Without ``fetch`` the estimate decides. Measured: ~0.15 exact checks per new text instead of
~110 at 100k stored, same decisions.

Memory: per tenant, sorted numpy arrays: the exact key and its owner (16 bytes); per band, one
uint64 packing a 32-bit band key with the example's 32-bit slot (80 bytes with 10 bands); per
slot the owner's 32-bit id prefix, the 40-byte sketch and a flag (45 bytes): ~141 bytes an
example. Text is never kept; the store keeps each example's keys and sketch (``dedup_sig``) so
an index can be rebuilt on start or on rebalance without re-reading text. Recent additions sit
in small dicts keyed like the arrays, so a lookup costs the same whatever was just added.

Scope and replicas: an index is per tenant; the curator replica that owns a partition must see
every example that could be a near duplicate of another, so the scored topic is keyed by
:func:`dedup_partition_key` (the tenant) and each replica rebuilds its tenants from the store.
With the shared index on PostgreSQL (``winnow.store.dedup_shared``) the key is the example id and
replicas keep each other's indexes exact through advisory locks and a catch-up read.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from winnow.dedup.arrays import TenantIndex
from winnow.events import ChatMessage
from winnow.example import Example, ExampleKind
from winnow.reasons import DropReason
from winnow.stages.ticket import judged_turns_of

U64 = npt.NDArray[np.uint64]
U8 = npt.NDArray[np.uint8]

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
_MASK64 = (1 << 64) - 1
SHINGLE_CHARS = 5
MAX_CANDIDATES = 2048
"""Most stored candidates verified for one example (those sharing the most bands first)."""
FETCH_CHUNK = 256
"""Candidates whose text is fetched per store query (two bind parameters each)."""
REBUILD_CHUNK = 65_536
"""Stored rows decoded and indexed at once by :meth:`NearDuplicateIndex.rebuild`."""
SKETCH_BITS = 8
"""Bits of each MinHash value kept in memory (b-bit MinHash): 40 bytes an example."""
VERIFY_MARGIN = 0.25
"""Candidates estimated this far below the threshold or more are not verified: at 40 values a
pair at the threshold (0.75) is estimated below 0.5 about 3 times in 10,000, one at 0.8 about
once in 100,000."""


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


def dedup_partition_key(example: Example, *, shared: bool = False) -> str:
    """Kafka key for the curator's input: the tenant, so every possible duplicate pair meets in
    one replica; with the shared index (``WINNOW_DEDUP_SHARED``) the example id, so one tenant
    spreads over every partition and replica."""
    return example.id if shared else example.tenant


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


FetchTexts = Callable[[str, list[str]], list[str]]
"""(tenant, id prefixes) -> dedup texts of stored examples whose id starts with a prefix."""


def _prefix(owner32: int) -> str:
    return f"{owner32:08x}"


def owner32_of(example_id: str) -> int:
    """The 32-bit owner id kept per slot: the first 8 hex digits of the example id."""
    return int(example_id[:8], 16)


def _owner(example_id: str) -> int:
    return int(example_id[:16], 16) if len(example_id) >= 16 else hash(example_id) & _MASK64


def encode_signature(exact: int, bands: U64, bits: U8 | None = None) -> bytes:
    """Bytes stored in ``examples.dedup_sig``: the exact key, the band keys (big-endian), then
    the b-bit sketch (one byte per MinHash value) when there is one."""
    blob = exact.to_bytes(8, "big") + bands.astype(">u8").tobytes()
    return blob if bits is None else blob + bits.astype(np.uint8).tobytes()


def decode_signature(blob: bytes, bands: int = 10) -> tuple[int, U64, U8 | None]:
    """Inverse of :func:`encode_signature` for ``bands`` bands; the sketch is None in keys
    stored before sketches existed."""
    head = 8 * (bands + 1)
    arr = np.frombuffer(blob[:head], dtype=">u8").astype(np.uint64)
    bits = np.frombuffer(blob[head:], dtype=np.uint8).copy() if len(blob) > head else None
    return int(arr[0]), arr[1:], bits


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
    duplicate. ``threshold`` is the exact Jaccard similarity from which two texts are duplicates;
    candidates whose sketch estimate is below ``threshold - VERIFY_MARGIN`` are not verified.
    """

    def __init__(
        self, threshold: float = 0.75, *, seed: int = 1, max_candidates: int = MAX_CANDIDATES
    ) -> None:
        bands, rows = threshold_bands(threshold)
        self.threshold = threshold
        self.verify_floor = threshold - VERIFY_MARGIN
        self.max_candidates = max_candidates
        self.capped_checks = 0
        """Examples whose candidates were cut to ``max_candidates`` (a metric of the curator)."""
        self.exact_checks = 0
        """Candidates verified by exact Jaccard (text in memory or fetched): the costly part."""
        self.hasher = MinHasher(bands=bands, rows=rows, seed=seed)
        self._tenants: dict[str, TenantIndex] = {}
        # Texts added since the last forget_recent(): not in the store yet, so fetch misses them.
        self._recent: dict[tuple[str, int], list[str]] = {}
        self._shingle_cache: dict[int, frozenset[int]] = {}

    def __len__(self) -> int:
        return sum(len(t.exact) for t in self._tenants.values())

    def _tenant(self, tenant: str) -> TenantIndex:
        found = self._tenants.get(tenant)
        if found is None:
            found = self._tenants[tenant] = TenantIndex(
                self.hasher.bands * self.hasher.rows, self.hasher.bands
            )
        return found

    def signature_of(self, example: Example) -> bytes:
        """The ``dedup_sig`` bytes to store with ``example``."""
        return encode_signature(*self.hasher.sketch_of(dedup_text(example)))

    def check_and_add(self, example: Example, fetch: FetchTexts | None = None) -> DropReason | None:
        """Why ``example`` duplicates an indexed one, or None after adding it to the index.

        Candidates added since :meth:`forget_recent` are verified against their text here;
        stored ones through ``fetch``; without ``fetch`` the sketch estimate decides.
        """
        return self.check_and_sign(example, fetch)[0]

    def check_and_sign(
        self, example: Example, fetch: FetchTexts | None = None
    ) -> tuple[DropReason | None, bytes | None]:
        """:meth:`check_and_add`, plus the ``dedup_sig`` of a kept example (MinHash runs once)."""
        text = dedup_text(example)
        exact, bands, bits = self.hasher.sketch_of(text)
        index = self._tenant(example.tenant)
        owner, owner32 = _owner(example.id), owner32_of(example.id)
        signature = encode_signature(exact, bands, bits)
        found = index.exact.get(exact)
        if found is not None:
            return (None, signature) if found == owner else (DropReason.NORMALISED_DUPLICATE, None)
        slots = index.candidates(bands, bits)
        slots = slots[index.sketches.owners[slots] != owner32]  # a redelivery is not a candidate
        if slots.size and self._is_near(example.tenant, index, text, bits, slots, fetch):
            return DropReason.NEAR_DUPLICATE, None
        index.add(exact, owner, bands, owner32, bits)
        self._recent.setdefault((example.tenant, owner32), []).append(text)
        return None, signature

    def _is_near(
        self,
        tenant: str,
        index: TenantIndex,
        text: str,
        bits: U8,
        slots: U64,
        fetch: FetchTexts | None,
    ) -> bool:
        estimates = index.sketches.estimate(slots, bits)
        likely = estimates >= self.verify_floor
        if not likely.any():
            return False
        # Best estimate first: the cap below then cuts only the least likely candidates.
        order = np.argsort(-estimates[likely], kind="stable")
        owners = index.sketches.owners[slots[likely][order]].tolist()
        best = estimates[likely][order].tolist()
        mine = self._shingles(text)
        kind = _kind_line(text)

        def near(other: str) -> bool:
            # Another kind is another training artefact: a thumbs-down on an answer someone else
            # liked is a label conflict (resolved at export), not a duplicate to drop silently.
            if _kind_line(other) != kind:
                return False
            self.exact_checks += 1
            theirs = self._shingles(other)
            return len(mine & theirs) >= self.threshold * len(mine | theirs)

        if any(near(t) for o in owners for t in self._recent.get((tenant, o), [])):
            return True
        stored = [
            (o, e) for o, e in zip(owners, best, strict=True) if (tenant, o) not in self._recent
        ]
        if not stored:
            return False
        if fetch is None:
            return bool(
                stored[0][1] >= self.threshold
            )  # no text to verify against: the sketch decides
        if len(stored) > self.max_candidates:
            # Bounded work per example: rows stored without a sketch all estimate 1.0.
            self.capped_checks += 1
            stored = stored[: self.max_candidates]
        prefixes = [_prefix(o) for o, _ in stored]
        for i in range(0, len(prefixes), FETCH_CHUNK):
            if any(near(t) for t in fetch(tenant, prefixes[i : i + FETCH_CHUNK])):
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
        """Replace the index with the stored examples' keys (of the tenants ``owns`` accepts).

        Rows are decoded in chunks and indexed in bulk (one sort per chunk and array).
        """
        self._tenants = {}
        self._recent = {}
        chunks: dict[str, list[DedupRow]] = {}
        n = 0
        for row in rows:
            if owns is not None and not owns(row.tenant):
                continue
            chunk = chunks.setdefault(row.tenant, [])
            chunk.append(row)
            n += 1
            if len(chunk) >= REBUILD_CHUNK:
                self._index_rows(row.tenant, chunk)
                chunks[row.tenant] = []
        for tenant, chunk in chunks.items():
            self._index_rows(tenant, chunk)
        return n

    def _index_rows(self, tenant: str, rows: list[DedupRow]) -> None:
        index = self._tenant(tenant)
        bands = self.hasher.bands
        width = bands * self.hasher.rows
        full = 8 * (bands + 1) + width
        # Keys stored before sketches existed are shorter: they get an all-zero, unknown sketch.
        blobs = [
            r.dedup_sig if len(r.dedup_sig) == full else _widen(r.dedup_sig, full) for r in rows
        ]
        arr = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(rows), full)
        keys = arr[:, : 8 * (bands + 1)].copy().view(">u8").astype(np.uint64)
        known = np.array([len(r.dedup_sig) == full for r in rows], dtype=bool)
        owners = np.fromiter((_owner(r.id) for r in rows), dtype=np.uint64, count=len(rows))
        index.exact.extend(keys[:, 0], owners)
        slots = index.sketches.extend((owner32_of(r.id) for r in rows), arr[:, -width:], known)
        index.bands.extend(keys[:, 1:], slots)

    def nbytes(self) -> int:
        """Bytes of the in-memory key arrays."""
        return sum(t.nbytes() for t in self._tenants.values())

    def holds(self, tenant: str, exact: int) -> bool:
        """Whether an example with this exact key is indexed for ``tenant``."""
        found = self._tenants.get(tenant)
        return found is not None and found.exact.get(exact) is not None

    def add_stored(self, tenant: str, rows: list[DedupRow]) -> int:
        """Add stored examples of ``tenant`` that another curator replica wrote (in bulk, like
        :meth:`rebuild`, without dropping what is indexed); return how many."""
        if rows:
            self._index_rows(tenant, rows)
        return len(rows)


def _widen(blob: bytes, size: int) -> bytes:
    return blob[:size].ljust(size, b"\0")
