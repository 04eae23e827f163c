"""The dashboard counts feedback conflicts from each tenant's latest snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.export.test_conflicts import EVENTS
from tests.monitor.test_dashboard import kpi, parse

from winnow.dedup.index import NearDuplicateIndex
from winnow.export.conflicts import ConflictPolicy
from winnow.export.exporter import export_snapshot, record
from winnow.export.formats import ExportFormat
from winnow.export.tokens import CharTokenCounter
from winnow.monitor.dashboard import render_page
from winnow.monitor.snapshot import store_snapshot
from winnow.monitor.store import MonitorStore
from winnow.stages.curate import curate_batch
from winnow.stages.decode import Coordinates
from winnow.stages.normalise import event_to_examples
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.store.queries import ExampleQuery


def test_conflicts_of_the_latest_snapshot_are_shown(tmp_path: Path) -> None:
    """The four contradicting events: one label conflict, one correction conflict; under a
    majority that needs 4 votes the pair is unresolved, and the newest snapshot is the one
    counted."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    store = ExampleStore(url)
    index = NearDuplicateIndex()
    for n, event in enumerate(EVENTS):
        decided, sigs = curate_batch(
            event_to_examples(event, Coordinates("feedback", 0, n)), [], index, store.dedup_texts
        )
        store.write_decisions(decided, sigs)
    for name, min_count in (("first", 2), ("second", 4)):
        result = export_snapshot(
            store,
            ExampleQuery("acme"),
            ExportFormat.KTO,
            tmp_path / name,
            counter=CharTokenCounter(),
            policy=ConflictPolicy.MAJORITY,
            min_count=min_count,
        )
        record(store, result)
    store.close()
    monitor = MonitorStore(url)
    snap = store_snapshot(monitor, since=None, now=datetime.now(UTC))
    monitor.close()
    assert snap.errors == []
    assert snap.conflicts == {"label_conflicts": 1, "unresolved": 1, "correction_conflicts": 1}
    doc = parse(render_page(snap))
    assert kpi(doc, "conflicts") == "1"
    tile = doc.one(data_kpi="conflicts")
    assert "1 unresolved, 1 disagreeing corrections" in tile.text()
    assert "warn" in tile.attrs["class"].split()
