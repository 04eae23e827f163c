"""The shared duplicate index's pure parts: when it is on, how the scored topic is keyed, locks."""

from __future__ import annotations

import pytest

from winnow.agents import curator
from winnow.bench.corpus import make_example
from winnow.dedup.index import DedupRow, NearDuplicateIndex, dedup_partition_key
from winnow.errors import ConfigurationError
from winnow.settings import Settings
from winnow.store.dedup_shared import catch_up_rows, lock_keys

PG = "postgresql+psycopg://postgres@127.0.0.1/winnow"


class TestMode:
    def test_auto_is_on_for_postgresql_only(self) -> None:
        """`auto` shares the index on PostgreSQL; SQLite (one process) keeps one replica."""
        auto = Settings(dedup_shared="auto")
        assert auto.dedup_shared_on(PG) and not auto.dedup_shared_on("sqlite:///w.db")
        assert not Settings(dedup_shared="off").dedup_shared_on(PG)
        assert Settings(dedup_shared="on").dedup_shared_on("sqlite:///w.db")

    def test_the_curator_refuses_on_without_postgresql(self) -> None:
        """`on` with a SQLite store is a configuration error, said in one line."""
        settings = Settings(dedup_shared="on", database_url="sqlite:///w.db")
        with pytest.raises(ConfigurationError, match="needs a PostgreSQL"):
            curator.build(settings)

    def test_shared_mode_spreads_one_tenant_over_partitions(self) -> None:
        """Keyed by tenant alone; by example id (a different key per example) when shared."""
        a, b = make_example("q one?", "answer one"), make_example("q two?", "answer two")
        assert dedup_partition_key(a) == dedup_partition_key(b) == "acme"
        assert dedup_partition_key(a, shared=True) == a.id != dedup_partition_key(b, shared=True)


class TestLocks:
    def test_lock_keys_are_sorted_distinct_and_tenant_scoped(self) -> None:
        """Sorted acquisition (no deadlock between replicas); a tenant's keys never lock
        another tenant's."""
        keys = lock_keys([("acme", 7, [1, 2, 2]), ("acme", 7, [2])])
        assert keys == sorted(set(keys)) and len(keys) == 3
        assert all(-(2**63) <= k < 2**63 for k in keys)
        assert not set(keys) & set(lock_keys([("globex", 7, [1, 2])]))

    def test_catch_up_adds_only_what_the_index_lacks(self) -> None:
        """Rows read again (this replica's own, or read by the last catch-up) are skipped."""
        mine, theirs = NearDuplicateIndex(), NearDuplicateIndex()
        a = make_example("How do I reset my password?", "Use the link on the sign-in page.")
        b = make_example("Where is my parcel?", "It left the depot this morning.", n=1)
        assert mine.check_and_add(a) is None
        rows = [DedupRow("acme", e.id, theirs.signature_of(e)) for e in (a, b)]
        assert catch_up_rows(mine, rows) == 1
        assert catch_up_rows(mine, rows) == 0
        assert len(mine) == 2
