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
~110 at 100k stored, same decisions. A curator batch looks its candidates up and reads their
stored text at once (:meth:`NearDuplicateIndex.prefetch`, called by ``curate_batch``): per-example
reads and lookups were the curator CPU that grew with the store (``winnow bench growth``).

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

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from winnow.dedup.arrays import TenantIndex
from winnow.dedup.minhash import (
    SHINGLE_CHARS,
    SKETCH_BITS,
    U8,
    U64,
    MinHasher,
    normalise_text,
    shingle_hashes,
    threshold_bands,
)
from winnow.events import ChatMessage
from winnow.example import Example, ExampleKind
from winnow.reasons import DropReason
from winnow.stages.ticket import judged_turns_of

__all__ = [
    "SHINGLE_CHARS",
    "SKETCH_BITS",
    "U8",
    "U64",
    "MinHasher",
    "normalise_text",
    "shingle_hashes",
    "threshold_bands",
]  # the hashing half lives in winnow.dedup.minhash; these stay importable from here

_MASK64 = (1 << 64) - 1
MAX_CANDIDATES = 2048
"""Most stored candidates verified for one example (those sharing the most bands first)."""
FETCH_CHUNK = 256
"""Candidates whose text is fetched per store query (two bind parameters each)."""
REBUILD_CHUNK = 65_536
"""Stored rows decoded and indexed at once by :meth:`NearDuplicateIndex.rebuild`."""
VERIFY_MARGIN = 0.25
"""Candidates estimated this far below the threshold or more are not verified: at 40 values a
pair at the threshold (0.75) is estimated below 0.5 about 3 times in 10,000, one at 0.8 about
once in 100,000."""


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


FetchTexts = Callable[[str, list[str]], Mapping[str, list[str]]]
"""(tenant, id prefixes) -> dedup texts of the tenant's stored examples, by the id prefix (8 hex
digits) they start with; a prefix nothing starts with may be left out."""


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


@dataclass
class _Plan:
    """What :meth:`NearDuplicateIndex.prefetch` found for one example: its MinHash (exact key,
    band keys, sketch) and, when it looked them up, its likely candidates' owners and estimates
    (best first), with the band entries' version and the next slot at that time."""

    sketch: tuple[int, U64, U8]
    owners: list[int] | None = None
    best: list[float] = field(default_factory=list)
    version: int = -1
    since: int = 0


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
        self._shingle_cache: dict[int, U64] = {}
        # The batch's stored candidates' texts read by prefetch(), by (tenant, owner32), and
        # what it found for each example, by (tenant, id, dedup text).
        self._prefetched: dict[tuple[str, int], list[str]] = {}
        self._planned: dict[tuple[str, str, str], _Plan] = {}

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
        stored ones through ``fetch`` (or the texts :meth:`prefetch` read); without ``fetch`` the
        sketch estimate decides.
        """
        return self.check_and_sign(example, fetch)[0]

    def check_and_sign(
        self, example: Example, fetch: FetchTexts | None = None
    ) -> tuple[DropReason | None, bytes | None]:
        """:meth:`check_and_add`, plus the ``dedup_sig`` of a kept example (MinHash runs once)."""
        text = dedup_text(example)
        plan = self._planned.pop((example.tenant, example.id, text), None)
        exact, bands, bits = plan.sketch if plan is not None else self.hasher.sketch_of(text)
        index = self._tenant(example.tenant)
        owner, owner32 = _owner(example.id), owner32_of(example.id)
        signature = encode_signature(exact, bands, bits)
        found = index.exact.get(exact)
        if found is not None:
            return (None, signature) if found == owner else (DropReason.NORMALISED_DUPLICATE, None)
        if plan is not None and plan.version == index.bands.version and plan.owners is not None:
            owners, best = self._likely_since(index, plan, owner32)
        else:
            owners, best = self._likely(index, bands, bits, owner32)
        if owners and self._is_near(example.tenant, text, owners, best, fetch):
            return DropReason.NEAR_DUPLICATE, None
        index.add(exact, owner, bands, owner32, bits)
        self._recent.setdefault((example.tenant, owner32), []).append(text)
        return None, signature

    def prefetch(self, examples: Sequence[Example], fetch: FetchTexts) -> int:
        """Read the stored texts that checking ``examples`` will verify, in one ``fetch`` per
        tenant; return how many id prefixes were asked for.

        Call it with a batch before checking its examples (``curate_batch`` does). Why: with a
        large store most new texts have a stored candidate worth verifying, and reading each
        example's candidates apart cost ~0.5 ms of curator CPU a read (a connection checkout,
        a statement, decoding): at 300k stored the largest cost that grew with the store.
        Candidates this read did not cover (another replica's rows indexed meanwhile, a band key
        turned hot) are still fetched when their example is checked. Each example's MinHash and
        stored candidates are kept for its check, which then looks up only the candidates added
        since (the batch's own, in the buffers: no search of the sorted arrays).
        """
        self._prefetched = {}
        self._planned = {}
        looked_up: dict[str, list[tuple[Example, _Plan]]] = {}
        for example in examples:
            text = dedup_text(example)
            sketch = self.hasher.sketch_of(text)
            plan = self._planned[example.tenant, example.id, text] = _Plan(sketch)
            index = self._tenants.get(example.tenant)
            if index is not None and index.exact.get(sketch[0]) is None:
                looked_up.setdefault(example.tenant, []).append((example, plan))
        wanted: dict[str, dict[int, None]] = {}
        for tenant, planned in looked_up.items():
            index = self._tenants[tenant]
            likely = self._likely_many(index, [e for e, _ in planned], [p for _, p in planned])
            for (_, plan), (owners, best) in zip(planned, likely, strict=True):
                plan.owners, plan.best = owners, best
                plan.version, plan.since = index.bands.version, index.sketches.size
                stored = [o for o in owners if (tenant, o) not in self._recent]
                wanted.setdefault(tenant, {}).update(dict.fromkeys(stored[: self.max_candidates]))
        for tenant, unique in wanted.items():
            prefixes = [_prefix(o) for o in unique]
            found = fetch(tenant, prefixes) if prefixes else {}
            for o, p in zip(unique, prefixes, strict=True):
                self._prefetched[tenant, o] = list(found.get(p, ()))
        return sum(len(o) for o in wanted.values())

    def _likely(
        self, index: TenantIndex, bands: U64, bits: U8, owner32: int
    ) -> tuple[list[int], list[float]]:
        """Owners of the candidates worth verifying (estimate >= ``verify_floor``), best
        estimate first, and their estimates; a redelivery (same owner) is not a candidate."""
        slots = index.candidates(bands, bits)
        slots = slots[index.sketches.owners[slots] != owner32]
        if not slots.size:
            return [], []
        estimates = index.sketches.estimate(slots, bits)
        likely = estimates >= self.verify_floor
        if not likely.any():
            return [], []
        # Best estimate first: the cap below then cuts only the least likely candidates.
        order = np.argsort(-estimates[likely], kind="stable")
        owners: list[int] = index.sketches.owners[slots[likely][order]].tolist()
        return owners, estimates[likely][order].tolist()

    def _likely_many(
        self, index: TenantIndex, examples: list[Example], plans: list[_Plan]
    ) -> list[tuple[list[int], list[float]]]:
        """:meth:`_likely` of many examples at once (a few dozen numpy calls for the batch
        instead of a few dozen each)."""
        bands = np.stack([p.sketch[1] for p in plans])
        bits = np.stack([p.sketch[2] for p in plans])
        mine = np.array([owner32_of(e.id) for e in examples], dtype=np.uint32)
        rows, slots = index.candidates_many(bands, bits)
        keep = index.sketches.owners[slots] != mine[rows]
        rows, slots = rows[keep], slots[keep]
        estimates = index.sketches.estimate(slots, bits[rows])
        likely = estimates >= self.verify_floor
        rows, slots, estimates = rows[likely], slots[likely], estimates[likely]
        # By example, best estimate first, then slot (lexsort is stable): as _likely orders.
        order = np.lexsort((-estimates, rows))
        bounds = np.searchsorted(rows[order], np.arange(len(plans) + 1)).tolist()
        owners = index.sketches.owners[slots[order]].tolist()
        best = estimates[order].tolist()
        return [(owners[a:b], best[a:b]) for a, b in itertools.pairwise(bounds)]

    def _likely_since(
        self, index: TenantIndex, plan: _Plan, owner32: int
    ) -> tuple[list[int], list[float]]:
        """:meth:`_likely` from the stored candidates ``plan`` found and those added since, in
        the same order (estimate, then slot: every stored slot comes before an added one)."""
        assert plan.owners is not None
        _, bands, bits = plan.sketch
        slots = index.candidates_since(bands, bits, plan.since)
        slots = slots[index.sketches.owners[slots] != owner32]
        if not slots.size:
            return plan.owners, plan.best
        estimates = index.sketches.estimate(slots, bits)
        likely = estimates >= self.verify_floor
        if not likely.any():
            return plan.owners, plan.best
        owners = plan.owners + index.sketches.owners[slots[likely]].tolist()
        best = plan.best + estimates[likely].tolist()
        order = sorted(range(len(best)), key=lambda i: -best[i])  # stable, as in _likely
        return [owners[i] for i in order], [best[i] for i in order]

    def _is_near(
        self,
        tenant: str,
        text: str,
        owners: list[int],
        best: list[float],
        fetch: FetchTexts | None,
    ) -> bool:
        mine = self._shingles(text)
        kind = _kind_line(text)

        def near(other: str) -> bool:
            # Another kind is another training artefact: a thumbs-down on an answer someone else
            # liked is a label conflict (resolved at export), not a duplicate to drop silently.
            if _kind_line(other) != kind:
                return False
            self.exact_checks += 1
            return _jaccard_reaches(mine, self._shingles(other), self.threshold)

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
        read = self._prefetched
        if any(near(t) for o, _ in stored for t in read.get((tenant, o), ())):
            return True
        prefixes = [_prefix(o) for o, _ in stored if (tenant, o) not in read]
        for i in range(0, len(prefixes), FETCH_CHUNK):
            found = fetch(tenant, prefixes[i : i + FETCH_CHUNK])
            if any(near(t) for texts in found.values() for t in texts):
                return True
        return False

    def _shingles(self, text: str) -> U64:
        # Templated corpora verify against the same popular candidates again and again. Sorted
        # arrays, not sets: building a frozenset of ~300 ints cost as much as hashing them.
        key = hash(text)
        found = self._shingle_cache.get(key)
        if found is None:
            if len(self._shingle_cache) >= 4096:
                self._shingle_cache.clear()
            found = shingle_hashes(normalise_text(text))
            self._shingle_cache[key] = found
        return found

    def forget_recent(self) -> None:
        """Drop the texts of the batch just written: the store answers for them from now on."""
        self._recent = {}
        self._prefetched = {}
        self._planned = {}

    def rebuild(
        self, rows: Iterable[DedupRow], *, owns: Callable[[str], bool] | None = None
    ) -> int:
        """Replace the index with the stored examples' keys (of the tenants ``owns`` accepts).

        Rows are decoded in chunks and indexed in bulk (one sort per chunk and array).
        """
        self._tenants = {}
        self.forget_recent()
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


def _jaccard_reaches(a: U64, b: U64, threshold: float) -> bool:
    """Whether two sorted sets of distinct shingle hashes have Jaccard similarity >= threshold."""
    if a.size > b.size:
        a, b = b, a
    at = np.searchsorted(b, a)
    at[at == b.size] = 0
    shared = int(np.count_nonzero(b[at] == a))
    return shared >= threshold * (a.size + b.size - shared)


def _widen(blob: bytes, size: int) -> bytes:
    return blob[:size].ljust(size, b"\0")
