"""The dedup index's per-tenant storage: sorted numpy arrays plus small keyed buffers.

Lookups never scan a buffer: recent additions sit in dicts keyed like the sorted arrays, and
are merged in (one ``searchsorted`` + ``insert``, linear) once they reach 1/16 of the arrays.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
U8 = npt.NDArray[np.uint8]

_LOW32 = np.uint64(0xFFFFFFFF)


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


class BandEntries:
    """(32-bit band key, 32-bit slot) pairs packed in one sorted uint64 array, plus a buffer of
    recent entries keyed by band key."""

    def __init__(self) -> None:
        self.packed: U64 = np.zeros(0, dtype=np.uint64)
        self._pending: dict[int, list[int]] = {}
        self._pending_n = 0

    def slots(self, keys: U64) -> U64:
        """Slots of the entries whose band key is one of ``keys`` (low 32 bits), once per band
        they share (a slot sharing three bands appears three times)."""
        lows = keys & _LOW32
        parts = [
            np.array(self._pending[k], dtype=np.uint64) for k in lows.tolist() if k in self._pending
        ]
        if self.packed.size:
            lo = np.searchsorted(self.packed, lows << np.uint64(32))
            hi = np.searchsorted(self.packed, (lows + np.uint64(1)) << np.uint64(32))
            lens = hi - lo
            total = int(lens.sum())
            if total:
                # Every position of every [lo, hi) range, without a Python loop.
                idx = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(total)
                parts.append(self.packed[idx] & _LOW32)
        if not parts:
            return np.zeros(0, dtype=np.uint64)
        return np.concatenate(parts)

    def add(self, keys: U64, slot: int) -> None:
        """Index ``slot`` under each of its band keys."""
        for k in (keys & _LOW32).tolist():
            self._pending.setdefault(k, []).append(slot)
        self._pending_n += int(keys.size)
        if self._pending_n > max(4096, self.packed.size // 16):
            self.flush()

    def extend(self, keys: U64, slots: U64) -> None:
        """Index many slots at once (a rebuild): ``keys`` is (n, bands), ``slots`` is (n,)."""
        self.flush()
        packed = ((keys & _LOW32) << np.uint64(32)) | slots.astype(np.uint64)[:, None]
        self.packed = np.sort(np.concatenate([self.packed, packed.ravel()]))

    def flush(self) -> None:
        """Merge the buffer into the sorted array."""
        if not self._pending:
            return
        new = np.fromiter(
            ((k << 32) | s for k, slots in self._pending.items() for s in slots),
            dtype=np.uint64,
            count=self._pending_n,
        )
        self.packed = _merge(self.packed, np.sort(new))
        self._pending = {}
        self._pending_n = 0

    def nbytes(self) -> int:
        """Bytes of the sorted array (the buffer is flushed first)."""
        self.flush()
        return int(self.packed.nbytes)


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
        self.owners = np.resize(self.owners, cap)
        self.bits = np.resize(self.bits, (cap, self.width))
        self.known = np.resize(self.known, cap)

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
        """Estimated Jaccard similarity of each slot's text with the sketch ``bits`` (1.0 where
        the slot has no sketch: the caller must verify those)."""
        matches = (self.bits[slots] == bits[None, :]).mean(axis=1)
        # b-bit MinHash (Li and König): unrelated values still agree with probability 2^-b.
        chance = 1.0 / 256
        est = (matches - chance) / (1 - chance)
        return np.where(self.known[slots], est, 1.0)

    def nbytes(self) -> int:
        """Bytes of the sketch arrays, spare capacity included."""
        return int(self.owners.nbytes + self.bits.nbytes + self.known.nbytes)


class TenantIndex:
    """One tenant's keys: exact key -> 64-bit owner, band entries, sketches by slot."""

    def __init__(self, width: int) -> None:
        self.exact = SortedKeys()
        self.bands = BandEntries()
        self.sketches = Sketches(width)

    def add(self, exact: int, owner: int, bands: U64, owner32: int, bits: U8 | None) -> None:
        """Index one kept example."""
        self.exact.add(exact, owner)
        self.bands.add(bands, self.sketches.append(owner32, bits))

    def candidates(self, bands: U64) -> U64:
        """Distinct slots sharing at least one band with ``bands``."""
        return np.unique(self.bands.slots(bands))

    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return self.exact.nbytes() + self.bands.nbytes() + self.sketches.nbytes()
