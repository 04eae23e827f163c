"""The shared duplicate index of several curator replicas on one tenant (PostgreSQL only).

Each replica keeps its in-memory :class:`~winnow.dedup.index.NearDuplicateIndex`; PostgreSQL
makes the replicas' decisions the ones a single replica would take (docs/dedup-replicas.md):

1. **Lock what can collide.** Before the duplicate checks of a batch, the replica takes a
   transaction-scoped advisory lock on every LSH band key and every exact key of the batch's
   candidates (salted by tenant), in sorted order, so two replicas never deadlock. Two near
   duplicates share a band key (that is how LSH finds them at all), so they queue on its lock.
2. **Catch up.** Holding the locks, it reads the signatures of every example stored by any
   transaction since its watermark (``examples.dedup_txn``, migration 0009) and adds the ones it
   lacks to its index. Whoever wrote a row sharing one of this batch's keys held that key's lock
   until its commit, so every such row is visible now.
3. **Decide and write**, then commit this transaction: the commit releases the locks, after the
   rows are stored.

Why a watermark on the transaction id and not on time or a sequence: rows commit out of order,
so "stored after my last read" by clock or sequence misses a transaction that began before the
last read and committed after it. The oldest transaction still running at the last read
(``pg_snapshot_xmin``) bounds every row the last read could not see; rows read twice are
skipped by their exact key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from winnow.dedup.index import DedupRow, NearDuplicateIndex

_WATERMARK = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
# unnest keeps the array's order, and count() evaluates each lock in turn: sorted acquisition.
_LOCK = text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(:keys) AS k").bindparams(
    bindparam("keys", type_=ARRAY(BigInteger))
)
_SINCE = text(
    "SELECT tenant, id, dedup_sig FROM examples WHERE dedup_sig IS NOT NULL AND dedup_txn >= :since"
)
_EXACT_SALT = 0x5EED_0F_E4AC7_0001
"""Keeps an exact key's lock apart from a band key's of the same value."""
_MASK64 = (1 << 64) - 1

KeySet = tuple[str, int, Iterable[int]]
"""(tenant, exact key, band keys) of one candidate example."""


def _tenant_salt(tenant: str) -> int:
    return int.from_bytes(hashlib.blake2b(tenant.encode(), digest_size=8).digest(), "big")


def _signed(key: int) -> int:
    """A uint64 as the int64 PostgreSQL's advisory locks take."""
    key &= _MASK64
    return key - (1 << 64) if key >= 1 << 63 else key


def lock_keys(candidates: Iterable[KeySet]) -> list[int]:
    """Sorted, distinct advisory lock ids of the candidates' band and exact keys."""
    keys: set[int] = set()
    for tenant, exact, bands in candidates:
        salt = _tenant_salt(tenant)
        keys.add(_signed(exact ^ salt ^ _EXACT_SALT))
        keys.update(_signed(int(b) ^ salt) for b in bands)
    return sorted(keys)


def catch_up_rows(index: NearDuplicateIndex, rows: Iterable[DedupRow]) -> int:
    """Add the stored rows ``index`` lacks (by exact key); return how many were added."""
    fresh: dict[str, list[DedupRow]] = {}
    for row in rows:
        exact = int.from_bytes(row.dedup_sig[:8], "big")
        if not index.holds(row.tenant, exact):
            fresh.setdefault(row.tenant, []).append(row)
    return sum(index.add_stored(tenant, batch) for tenant, batch in fresh.items())


@dataclass
class SharedDedup:
    """One replica's side of the shared index: its catch-up watermark and lock statistics."""

    engine: Engine
    watermark: int | None = None
    """Oldest transaction id that may have written rows this replica has not read; None
    before the first :meth:`rebuild`."""
    stale: bool = True
    """The index must be rebuilt before the next batch (start, or a failed batch)."""
    stats: dict[str, float] = field(
        default_factory=lambda: {"locks": 0, "read": 0, "caught_up": 0, "lock_wait_s": 0.0}
    )
    """Locks taken, rows read and added by catch-ups, seconds waiting for locks, since the
    start."""

    def rebuild(self, index: NearDuplicateIndex, rows: Iterable[DedupRow]) -> int:
        """Rebuild ``index`` from ``rows`` (read after this call takes the watermark)."""
        with self.engine.connect() as conn:
            # Before the read: every transaction older than this has finished, so its rows
            # are in the read; anything newer is read again by the next catch-up.
            watermark = int(conn.execute(_WATERMARK).scalar_one())
        n = index.rebuild(rows)
        self.watermark, self.stale = watermark, False
        return n

    @contextmanager
    def locked(self, index: NearDuplicateIndex, candidates: Iterable[KeySet]) -> Iterator[int]:
        """Hold the candidates' locks, with ``index`` caught up, until the block ends.

        Yields how many rows the catch-up added. Leaving the block commits the lock
        transaction, which releases the locks: write the batch inside it. An exception rolls
        it back (releasing them too) and marks the index stale, since the batch may have
        indexed examples that were never stored.
        """
        if self.watermark is None:
            raise RuntimeError("SharedDedup.rebuild must run before the first batch")
        keys = lock_keys(candidates)
        try:
            with self.engine.begin() as conn:
                if keys:
                    started = time.perf_counter()
                    conn.execute(_LOCK, {"keys": keys})
                    self.stats["lock_wait_s"] += time.perf_counter() - started
                watermark = int(conn.execute(_WATERMARK).scalar_one())
                rows = [
                    DedupRow(t, i, bytes(s))
                    for t, i, s in conn.execute(_SINCE, {"since": self.watermark})
                ]
                added = catch_up_rows(index, rows)
                self.stats["read"] += len(rows)
                self.watermark = watermark
                self.stats["locks"] += len(keys)
                self.stats["caught_up"] += added
                yield added
        except BaseException:
            self.stale = True
            raise
