"""The dedup index's per-tenant storage: sorted numpy arrays plus small keyed buffers.

Lookups never scan a buffer: recent additions sit in dicts keyed like the sorted arrays, and
are merged in (one ``searchsorted`` + ``insert``, linear) once they reach 1/16 of the arrays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
U8 = npt.NDArray[np.uint8]

_LOW32 = np.uint64(0xFFFFFFFF)
_MASK64 = (1 << 64) - 1


def _merge(sorted_keys: U64, new: U64) -> U64:
    """``sorted_keys`` with ``new`` (sorted) merged in: linear, unlike sorting both again."""
    return np.insert(sorted_keys, np.searchsorted(sorted_keys, new), new)


class SortedKeys:
    """A map of uint64 keys to uint64 values: a sorted array pair plus a dict buffer."""

    def __init__(self) -> None:
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
            return int(self.values[i])
        return None

    def add(self, key: int, value: int) -> None:
        """Add a key (a key already present keeps its first value)."""
        if self.get(key) is None:
            self._pending[key] = value
        if len(self._pending) > max(1024, self.keys.size // 16):
            self.flush()

    def extend(self, keys: U64, values: U64) -> None:
        """Add many keys at once (a rebuild); the first of equal keys wins, as with :meth:`add`."""
        self.flush()
        all_keys = np.concatenate([self.keys, keys])
        all_values = np.concatenate([self.values, values])
        order = np.argsort(all_keys, kind="stable")
        all_keys, all_values = all_keys[order], all_values[order]
        first = np.ones(all_keys.size, dtype=bool)
        first[1:] = all_keys[1:] != all_keys[:-1]
        self.keys, self.values = all_keys[first], all_values[first]

    def flush(self) -> None:
        """Merge the buffer into the sorted arrays."""
        if not self._pending:
            return
        new_k = np.fromiter(self._pending.keys(), dtype=np.uint64, count=len(self._pending))
        new_v = np.fromiter(self._pending.values(), dtype=np.uint64, count=new_k.size)
        order = np.argsort(new_k)
        at = np.searchsorted(self.keys, new_k[order])
        self.keys = np.insert(self.keys, at, new_k[order])
        self.values = np.insert(self.values, at, new_v[order])
        self._pending = {}

    def nbytes(self) -> int:
        """Bytes held by the arrays (the buffer is flushed first)."""
        self.flush()
        return int(self.keys.nbytes + self.values.nbytes)


def _positions(
    packed: U64, keys: U64, limit: int | None = None
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """How many entries of ``packed`` (key << 32 | slot, sorted) sit under each of ``keys`` (at
    most ``limit`` a key), and the positions of them all, key after key."""
    if not packed.size or not keys.size:
        return np.zeros(keys.size, dtype=np.intp), np.zeros(0, dtype=np.intp)
    lo = np.searchsorted(packed, keys << np.uint64(32))
    hi = np.searchsorted(packed, (keys + np.uint64(1)) << np.uint64(32))
    if limit is not None:
        hi = np.minimum(hi, lo + limit)
    lens = hi - lo
    total = int(lens.sum())
    if not total:
        return lens, np.zeros(0, dtype=np.intp)
    # Every position of every [lo, hi) range, without a Python loop.
    return lens, np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(total)


def _ranges(packed: U64, keys: U64, limit: int | None = None) -> U64:
    """Slots of the entries of ``packed`` (key << 32 | slot, sorted) under each of ``keys``,
    at most ``limit`` a key."""
    _, idx = _positions(packed, keys, limit)
    return packed[idx] & _LOW32


def _splitmix(x: U64) -> U64:
    x = x ^ (x >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _splitmix_int(x: int) -> int:
    """:func:`_splitmix` of one Python int (64-bit wrap-around made explicit)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class _Postings:
    """(32-bit key, 32-bit slot) pairs: one sorted uint64 array plus a buffer keyed by key."""

    def __init__(self) -> None:
        self.packed: U64 = np.zeros(0, dtype=np.uint64)
        self.pending: dict[int, list[int]] = {}
        self.pending_n = 0

    def slots(self, keys: U64, limit: int | None = None) -> list[U64]:
        """Slots under each of ``keys`` (sorted array, at most ``limit`` a key, then buffer)."""
        parts = [_ranges(self.packed, keys, limit)]
        for k in keys.tolist():
            if k in self.pending:
                parts.append(np.array(self.pending[k], dtype=np.uint64))
        return parts

    def slots_of(self, keys: U64, limit: int | None = None) -> tuple[npt.NDArray[np.intp], U64]:
        """:meth:`slots` for many keys at once: (which key, slot) of every entry found."""
        lens, idx = _positions(self.packed, keys, limit)
        which = [np.repeat(np.arange(keys.size), lens)]
        slots = [self.packed[idx] & _LOW32]
        for i, k in enumerate(keys.tolist()):
            if k in self.pending:
                which.append(np.full(len(self.pending[k]), i, dtype=np.intp))
                slots.append(np.array(self.pending[k], dtype=np.uint64))
        return np.concatenate(which), np.concatenate(slots)

    def add(self, key: int, slot: int) -> None:
        """Buffer one entry."""
        self.pending.setdefault(key, []).append(slot)
        self.pending_n += 1

    def merge(self, packed: U64) -> None:
        """Merge sorted ``packed`` entries in (linear, unlike sorting both again)."""
        self.packed = _merge(self.packed, packed)

    def flush(self) -> None:
        """Merge the buffer into the sorted array."""
        if not self.pending:
            return
        new = np.fromiter(
            ((k << 32) | s for k, slots in self.pending.items() for s in slots),
            dtype=np.uint64,
            count=self.pending_n,
        )
        self.merge(np.sort(new))
        self.pending = {}
        self.pending_n = 0


HOT_LIMIT = 64
"""Entries a band key may hold before it is hot: its entries then move under refined keys. At
100k stored (`winnow bench dedup` corpus) 64 cut LSH candidates per check from mean 138 / p99
3,370 to 23 / 104 with the same planted copies caught (1,999 of 2,000); 256 gave 37 / 236."""
REFINED_LIMIT = 1024
"""Most entries read under one refined key (bounded work in a heavily templated corpus)."""


class BandEntries:
    """Every slot under each of its band keys, plus refined keys for hot band keys.

    Why: in a templated corpus a few band keys (four MinHash values that all fall in common
    phrasing) are shared by a large share of the store; every example with such a key met them
    all as candidates (at 100k stored: mean 136, p99 3,400, growing with the store). A band key
    with ``HOT_LIMIT`` entries becomes hot: its entries move to a second array under a refined
    key, the band key plus the next band's b-bit sketch values (a stricter band: eight rows),
    and a lookup of a hot key reads only its refined key. Each entry is held once either way
    (no memory cost); a hot key costs a dict entry. Hotness depends only on how many entries a
    key holds, checked when the buffer is merged and on rebuild, so an incremental and a
    rebuilt index agree after each merge. A pair at the 0.75 threshold shares a refined band
    with probability ~0.1 instead of ~0.32, so recall falls only for pairs whose shared bands
    are all hot; `winnow bench dedup` measures it against an exact scan.
    """

    def __init__(self, sketches: Sketches, bands: int, rows: int) -> None:
        self.sketches = sketches
        self.bands = bands
        self.rows = rows
        self.main = _Postings()
        self.refined = _Postings()
        self.hot: dict[int, int] = {}
        """Hot band key -> its band's index."""
        self._band_of: dict[int, int] = {}
        """Band index of each key in the main buffer (hot keys are found at merge)."""
        self.version = 0
        """Bumped whenever entries move between the buffers and the sorted arrays (a flush, a
        rebuild): until then :meth:`slots` finds what it found before plus buffered entries."""

    @property
    def packed(self) -> U64:
        """The main sorted array (band key << 32 | slot)."""
        return self.main.packed

    def _refine(self, keys: U64, bands: npt.NDArray[np.int64], bits: U8) -> U64:
        """Refined keys: each band key mixed with the next band's sketch values."""
        cols = ((bands + 1) % self.bands)[:, None] * self.rows + np.arange(self.rows)
        other = np.take_along_axis(bits, cols, axis=1).astype(np.uint64)
        acc = np.zeros(keys.size, dtype=np.uint64)
        for j in range(min(self.rows, 4)):
            acc = (acc << np.uint64(8)) | other[:, j]
        return _splitmix((keys << np.uint64(32)) | acc) & _LOW32

    def slots(self, keys: U64, bits: U8 | None = None) -> U64:
        """Slots sharing a band with band keys ``keys`` (hot ones through their refined key
        with the sketch ``bits``), once per band they share."""
        lows = keys & _LOW32
        hot = np.array([k in self.hot for k in lows.tolist()], dtype=bool)
        parts = self.main.slots(lows[~hot])
        if hot.any() and bits is not None:
            bands = np.flatnonzero(hot).astype(np.int64)
            refined = self._refine(lows[hot], bands, np.broadcast_to(bits, (bands.size, bits.size)))
            parts += self.refined.slots(refined, REFINED_LIMIT)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def slots_many(self, keys: U64, bits: U8) -> tuple[npt.NDArray[np.intp], U64]:
        """:meth:`slots` of many examples at once: ``keys`` is (n, bands), ``bits`` their
        sketches (n, width); returns (example row, slot) of every entry found."""
        lows = keys & _LOW32
        hot = np.array([k in self.hot for k in lows.ravel().tolist()], dtype=bool)
        hot = hot.reshape(lows.shape)
        rows = np.broadcast_to(np.arange(lows.shape[0])[:, None], lows.shape)
        which, slots = self.main.slots_of(lows[~hot])
        found_rows, found_slots = [rows[~hot][which]], [slots]
        if hot.any():
            bands = np.broadcast_to(np.arange(self.bands, dtype=np.int64), lows.shape)[hot]
            refined = self._refine(lows[hot], bands, bits[rows[hot]])
            which, slots = self.refined.slots_of(refined, REFINED_LIMIT)
            found_rows.append(rows[hot][which])
            found_slots.append(slots)
        return np.concatenate(found_rows), np.concatenate(found_slots)

    def _refined_keys(self, lows: list[int], hot: list[int], bits: U8 | None) -> list[int]:
        """:meth:`_refine` of one example's hot bands ``hot`` in plain Python: for the one or
        two hot bands of a lookup or an addition, numpy's call overhead cost more."""
        values = [0] * (self.bands * self.rows) if bits is None else bits.tolist()
        out = []
        for b in hot:
            start = ((b + 1) % self.bands) * self.rows
            acc = 0
            for v in values[start : start + min(self.rows, 4)]:
                acc = (acc << 8) | v
            out.append(_splitmix_int((lows[b] << 32) | acc) & 0xFFFFFFFF)
        return out

    def buffered(self, keys: U64, bits: U8 | None = None) -> list[int]:
        """The slots :meth:`slots` finds in the buffers alone (entries added since the last
        flush): a dict lookup per band, no search of the sorted arrays."""
        lows = (keys & _LOW32).tolist()
        main, refined = self.main.pending, self.refined.pending
        found = [s for k in lows if k not in self.hot and k in main for s in main[k]]
        hot = [b for b, k in enumerate(lows) if k in self.hot]
        if hot and bits is not None and refined:
            keys_ = self._refined_keys(lows, hot, bits)
            found += [s for k in keys_ if k in refined for s in refined[k]]
        return found

    def add(self, keys: U64, slot: int, bits: U8 | None = None) -> None:
        """Index ``slot`` under each of its band keys (``bits``: its sketch)."""
        lows = (keys & _LOW32).tolist()
        hot = [b for b, k in enumerate(lows) if k in self.hot]
        for r in self._refined_keys(lows, hot, bits) if hot else []:
            self.refined.add(r, slot)
        for b, k in enumerate(lows):
            if k not in self.hot:
                self.main.add(k, slot)
                self._band_of[k] = b
        if self.main.pending_n + self.refined.pending_n > max(4096, self.main.packed.size // 16):
            self.flush()

    def extend(self, keys: U64, slots: U64) -> None:
        """Index many slots at once (a rebuild): ``keys`` is (n, bands), ``slots`` is (n,)."""
        self.flush()
        self.version += 1
        lows = keys & _LOW32
        hot = np.isin(lows, np.fromiter(self.hot, dtype=np.uint64, count=len(self.hot)))
        bands = np.broadcast_to(np.arange(self.bands, dtype=np.int64), lows.shape)
        slot_grid = np.broadcast_to(slots.astype(np.uint64)[:, None], lows.shape)
        if hot.any():
            bits = self.sketches.bits[slot_grid[hot].astype(np.intp)]
            refined = self._refine(lows[hot], bands[hot], bits)
            self.refined.merge(np.sort((refined << np.uint64(32)) | slot_grid[hot]))
        cold = ~hot
        self.main.merge(np.sort((lows[cold] << np.uint64(32)) | slot_grid[cold]))
        self._heat(lows[cold], bands[cold])

    def flush(self) -> None:
        """Merge the buffers into the sorted arrays; band keys that reached the limit turn hot."""
        self.version += 1
        keys = np.fromiter(self._band_of, dtype=np.uint64, count=len(self._band_of))
        bands = np.fromiter(self._band_of.values(), dtype=np.int64, count=keys.size)
        self.main.flush()
        self.refined.flush()
        self._band_of = {}
        self._heat(keys, bands)

    def _heat(self, keys: U64, bands: npt.NDArray[np.int64]) -> None:
        """Move the entries of those of ``keys`` (just added to the main array, in band
        ``bands``) that now hold ``HOT_LIMIT`` entries or more under refined keys."""
        if not keys.size:
            return
        keys, first = np.unique(keys, return_index=True)
        bands = bands[first]
        packed = self.main.packed
        lo = np.searchsorted(packed, keys << np.uint64(32))
        hi = np.searchsorted(packed, (keys + np.uint64(1)) << np.uint64(32))
        heat = (hi - lo) >= HOT_LIMIT
        if not heat.any():
            return
        lo, hi, lens = lo[heat], hi[heat], (hi - lo)[heat]
        self.hot.update(zip(keys[heat].tolist(), bands[heat].tolist(), strict=True))
        idx = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        moved = packed[idx]
        slots = moved & _LOW32
        refined = self._refine(
            moved >> np.uint64(32),
            np.repeat(bands[heat], lens),
            self.sketches.bits[slots.astype(np.intp)],
        )
        self.refined.merge(np.sort((refined << np.uint64(32)) | slots))
        self.main.packed = np.delete(packed, idx)

    def nbytes(self) -> int:
        """Bytes of the sorted arrays and the hot-key dict (the buffers are flushed first)."""
        self.flush()
        # A dict entry of two small ints: ~100 bytes with its key and value objects.
        hot = 100 * len(self.hot)
        return int(self.main.packed.nbytes + self.refined.packed.nbytes) + hot


def _grown(arr: npt.NDArray[Any], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    """``arr`` copied into the start of a zeroed array of ``shape`` (more rows)."""
    out = np.zeros(shape, dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


class Sketches:
    """Per slot: the owner's 32-bit id prefix and the b-bit MinHash sketch (``width`` bytes).

    Arrays grow by 1/16 at a time, so spare capacity stays small (memory is a goal).
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self.size = 0
        self.owners: U32 = np.zeros(0, dtype=np.uint32)
        self.bits: U8 = np.zeros((0, width), dtype=np.uint8)
        self.known: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        """False for rows stored before sketches existed: they are always verified."""

    def _reserve(self, n: int) -> None:
        if n <= self.owners.size:
            return
        cap = max(n, self.owners.size + max(1024, self.owners.size // 16))
        # Fresh arrays of exactly ``cap``: np.resize returns a slice of a repeated copy whose
        # buffer can be twice the size (tracemalloc saw 155-185 B an example, arrays 141 B).
        self.owners = _grown(self.owners, (cap,))
        self.bits = _grown(self.bits, (cap, self.width))
        self.known = _grown(self.known, (cap,))

    def append(self, owner32: int, bits: U8 | None) -> int:
        """Store one owner's sketch; returns its slot."""
        self._reserve(self.size + 1)
        slot = self.size
        self.owners[slot] = owner32
        self.known[slot] = bits is not None
        self.bits[slot] = 0 if bits is None else bits
        self.size += 1
        return slot

    def extend(self, owners: Iterable[int], bits: U8, known: npt.NDArray[np.bool_]) -> U64:
        """Store many sketches at once (a rebuild); returns their slots."""
        owners_arr = np.fromiter(owners, dtype=np.uint32)
        n = owners_arr.size
        start = self.size
        self._reserve(start + n)
        self.owners[start : start + n] = owners_arr
        self.bits[start : start + n] = bits
        self.known[start : start + n] = known
        self.size += n
        return np.arange(start, start + n, dtype=np.uint64)

    def estimate(self, slots: U64, bits: U8) -> npt.NDArray[np.float64]:
        """Estimated Jaccard similarity of each slot's text with the sketch ``bits`` (or, with
        one sketch a slot, each with its own; 1.0 where the slot has no sketch: the caller must
        verify those)."""
        matches = (self.bits[slots] == bits).mean(axis=1)  # bits: one sketch or one a slot
        # b-bit MinHash (Li and König): unrelated values still agree with probability 2^-b.
        chance = 1.0 / 256
        est = (matches - chance) / (1 - chance)
        return np.where(self.known[slots], est, 1.0)

    def nbytes(self) -> int:
        """Bytes of the sketch arrays, spare capacity included."""
        return int(self.owners.nbytes + self.bits.nbytes + self.known.nbytes)


class TenantIndex:
    """One tenant's keys: exact key -> 64-bit owner, band entries, sketches by slot."""

    def __init__(self, width: int, bands: int = 10) -> None:
        self.exact = SortedKeys()
        self.sketches = Sketches(width)
        self.bands = BandEntries(self.sketches, bands, width // bands)

    def add(self, exact: int, owner: int, bands: U64, owner32: int, bits: U8 | None) -> None:
        """Index one kept example."""
        self.exact.add(exact, owner)
        self.bands.add(bands, self.sketches.append(owner32, bits), bits)

    def candidates(self, bands: U64, bits: U8 | None = None) -> U64:
        """Distinct slots sharing at least one band with ``bands`` (a hot band: its refined
        key, from the sketch ``bits``)."""
        return np.unique(self.bands.slots(bands, bits))

    def candidates_many(self, bands: U64, bits: U8) -> tuple[npt.NDArray[np.intp], U64]:
        """:meth:`candidates` of many examples at once (``bands`` (n, bands), ``bits`` (n,
        width)): (example row, slot) pairs, distinct, by row then slot."""
        rows, slots = self.bands.slots_many(bands, bits)
        pairs = np.unique((rows.astype(np.uint64) << np.uint64(32)) | slots)
        return (pairs >> np.uint64(32)).astype(np.intp), pairs & _LOW32

    def candidates_since(self, bands: U64, bits: U8 | None, since: int) -> U64:
        """The slots from ``since`` on that :meth:`candidates` would find, provided no flush
        happened since ``since`` was the next slot (``bands.version`` unchanged): those are
        all still buffered."""
        found = sorted({s for s in self.bands.buffered(bands, bits) if s >= since})
        return np.array(found, dtype=np.uint64)

    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return self.exact.nbytes() + self.bands.nbytes() + self.sketches.nbytes()
