"""Snapshots in object storage as Hugging Face datasets, against a real S3-protocol server.

Events are normalised, curated (filters off, the real duplicate index against the store) and
stored; the retrain trigger fires and writes its snapshot to ``s3://``; the real
``datasets.load_dataset`` reads every config and split, and the counts match the store.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from xml.etree import ElementTree

import pytest
import s3fs

from winnow.dedup.index import NearDuplicateIndex
from winnow.example import ExampleKind
from winnow.export import storage
from winnow.export.exceptions import ExportError
from winnow.export.exporter import MANIFEST, export_snapshot
from winnow.export.formats import ExportFormat
from winnow.export.hub import README
from winnow.export.retrain import RetrainTrigger
from winnow.export.tokens import CharTokenCounter
from winnow.settings import Settings
from winnow.stages.curate import curate_batch
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.store.queries import ExampleQuery, count_examples, snapshots

from .s3lib import load_every_config, readme_header
from .seedlib import make_example

WORDS = [
    "invoice",
    "refund",
    "card",
    "plan",
    "receipt",
    "tax",
    "discount",
    "currency",
    "parcel",
    "courier",
    "address",
    "label",
    "return",
    "warranty",
    "screen",
    "battery",
    "charger",
    "login",
    "password",
    "email",
    "profile",
    "avatar",
    "export",
    "report",
    "team",
    "seat",
    "licence",
    "upgrade",
    "downgrade",
    "trial",
    "coupon",
    "voucher",
    "region",
    "language",
    "timezone",
    "device",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.sample(WORDS, n))


def _corpus() -> list:  # type: ignore[type-arg]
    """Two routed domains, every kind, enough distinct conversations to fill three splits."""
    rng = random.Random(18)
    out = []
    for i in range(60):
        domain = "billing" if i % 2 else "shipping"
        kind = [ExampleKind.SFT, ExampleKind.PREFERENCE, ExampleKind.NEGATIVE][i % 3]
        rejected = _text(rng, 6) if kind is ExampleKind.PREFERENCE else None
        question, answer = f"{_text(rng, 10)}?", _text(rng, 12)
        out.append(make_example(question, answer, domain=domain, kind=kind, rejected=rejected))
    return out


@pytest.fixture
def store(tmp_path: Path) -> ExampleStore:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    return ExampleStore(url)


def _curate(store: ExampleStore) -> None:
    index = NearDuplicateIndex()
    decided, sigs = curate_batch(_corpus(), [], index, store.dedup_texts)
    out = store.write_decisions(decided, sigs)
    assert len(out.accepted) == 60, [e.decision for e in out.rejected]


def test_retrain_snapshot_lands_on_s3_as_a_hf_dataset(store: ExampleStore, s3: str) -> None:
    """The trigger fires per domain; each snapshot is complete on S3 and loads config by config."""
    _curate(store)
    settings = Settings(
        snapshot_url=f"{s3}/snapshots", retrain_min_examples=10, snapshot_format="parquet"
    )
    events = RetrainTrigger(store, settings, counter=CharTokenCounter()).check()
    assert sorted(e.domain for e in events) == ["billing", "shipping"]
    fs = s3fs.S3FileSystem()
    for event in events:
        assert event.path == f"{s3}/snapshots/acme/{event.domain}/{event.snapshot_id}"
        assert fs.exists(f"{event.path}/{MANIFEST}")
        manifest = storage.read_manifest(event.path)
        assert manifest["snapshot_id"] == event.snapshot_id
        header = readme_header(fs.cat_file(f"{event.path}/{README}").decode())
        assert header["license"] == "other" and header["task_categories"]
        assert header["size_categories"] == ["n<1K"]
        counts = load_every_config(event.path, header)
        assert {c for c, _ in counts} == {
            f"{event.domain}-{k}" for k in ("sft", "preference", "negative")
        }
        assert {s for _, s in counts} == {"train", "validation", "test"}
        stored = count_examples(store, "acme", event.domain, after=None)
        assert sum(counts.values()) == stored == manifest["counts"]["examples"]
    recorded = {s.id: s.path for s in snapshots(store, "acme")}
    assert recorded == {e.snapshot_id: e.path for e in events}


def test_local_snapshot_loads_as_a_dataset_repository(store: ExampleStore, tmp_path: Path) -> None:
    """A local export is a dataset repository: load_dataset finds configs from README.md."""
    _curate(store)
    out = tmp_path / "out"
    manifest = export_snapshot(
        store, ExampleQuery("acme"), ExportFormat.KTO, out, counter=CharTokenCounter()
    ).manifest
    header = readme_header((out / README).read_text())
    counts = load_every_config(str(out), header)
    assert sum(counts.values()) == manifest["counts"]["rows"]
    by_config = {f["config"]: 0 for f in manifest["dataset"]["files"]}
    for f in manifest["dataset"]["files"]:
        by_config[f["config"]] += f["rows"]
    for config, rows in by_config.items():
        assert sum(n for (c, _), n in counts.items() if c == config) == rows
    # The card's score histograms are standalone SVG files the README shows.
    readme = (out / README).read_text()
    images = sorted((out / "images").glob("*.svg"))
    assert [p.name for p in images] == [
        f"{d}-{s}.svg"
        for d in ("billing", "shipping")
        for s in ("answer-chars", "relevance", "reward")
    ]
    for image in images:
        root = ElementTree.parse(image).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(root.findall(".//{http://www.w3.org/2000/svg}rect")) > 0
        assert f"](images/{image.name})" in readme


def test_a_copy_cut_short_is_not_a_snapshot(tmp_path: Path, s3: str) -> None:
    """Until the manifest is written last, readers see nothing; prune finds the leftovers."""
    local = tmp_path / "snap"
    (local / "data").mkdir(parents=True)
    (local / "data" / "x.parquet").write_bytes(b"not yet")
    (local / MANIFEST).write_text(json.dumps({"snapshot_id": "abc"}))
    url = f"{s3}/root/acme/billing/abc"
    fs = s3fs.S3FileSystem()
    fs.put_file(str(local / "data" / "x.parquet"), f"{url}/data/x.parquet")  # a crash here
    assert list(storage.list_snapshots(f"{s3}/root")) == []
    assert storage.incomplete(f"{s3}/root") == [url]
    with pytest.raises(ExportError, match="no complete snapshot"):
        storage.read_manifest(url)
    storage.publish(local, url)
    assert [s.snapshot_id for s in storage.list_snapshots(f"{s3}/root")] == ["abc"]
    assert storage.incomplete(f"{s3}/root") == []
