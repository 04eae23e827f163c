"""Splits without leakage: near-duplicate clusters stay in one split; eval prompts are removed.

The prompts avoid words the PII redactor reads as cues (password, login, address): the export
re-scans every text, and the test keys rows by their prompt.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from winnow.export.exceptions import ExportError
from winnow.export.exporter import ExportOptions, export_snapshot
from winnow.export.formats import ExportFormat
from winnow.export.splits import EvalSet, SplitAssigner
from winnow.export.tokens import CharTokenCounter
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.store.queries import ExampleQuery

from .seedlib import make_example, seed

WORDS = [
    "invoice", "refund", "card", "plan", "receipt", "tax", "discount", "currency", "parcel",
    "courier", "bundle", "label", "return", "warranty", "screen", "battery", "charger", "widget",
    "wallet", "sticker", "profile", "avatar", "export", "report", "team", "seat", "licence",
    "upgrade", "downgrade", "trial", "coupon", "voucher", "region", "language", "timezone",
]  # fmt: skip
EVAL = "my parcel arrived with a cracked screen and the courier refused to take the return label"
EVAL_NEAR = (
    "my parcel arrived with a cracked screen and the courier refused to take my return label"
)


def _prompts() -> tuple[list[str], list[list[str]]]:
    """Distinct prompts, and near-duplicate clusters (one word changed per variant)."""
    rng = random.Random(7)
    singles = [" ".join(rng.sample(WORDS, 14)) for _ in range(120)]
    clusters = []
    for _ in range(12):
        base = rng.sample(WORDS, 16)
        variants = [" ".join(base)]
        for j in range(3):
            v = list(base)
            v[(j * 5 + 3) % 16] = "please"
            variants.append(" ".join(v))
        clusters.append(variants)
    return singles, clusters


@pytest.fixture
def store(tmp_path: Path) -> ExampleStore:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    s = ExampleStore(url)
    singles, clusters = _prompts()
    prompts = [*singles, *(p for c in clusters for p in c), EVAL, EVAL_NEAR]
    seed(s, [make_example(p, f"answer {n} " + p[::-1]) for n, p in enumerate(prompts)])
    return s


def _splits_of(out: Path, manifest: dict) -> dict[str, set[str]]:  # type: ignore[type-arg]
    """Prompt -> the splits it appears in, read back from the shards."""
    found: dict[str, set[str]] = defaultdict(set)
    for f in manifest["dataset"]["files"]:
        for row in pq.read_table(out / f["path"]).to_pylist():
            user = next(m["content"] for m in row["messages"] if m["role"] == "user")
            found[user].add(f["split"])
    return found


def test_near_duplicate_clusters_never_span_two_splits(store: ExampleStore, tmp_path: Path) -> None:
    """Every member of a cluster lands in the split of the cluster; all three splits are used."""
    out = tmp_path / "out"
    manifest = export_snapshot(
        store, ExampleQuery("acme"), ExportFormat.OPENAI_CHAT, out, counter=CharTokenCounter()
    ).manifest
    found = _splits_of(out, manifest)
    _, clusters = _prompts()
    assert all(len(s) == 1 for s in found.values())
    assert {next(iter(s)) for s in found.values()} == {"train", "validation", "test"}
    spans = [len(set().union(*(found[p] for p in c))) for c in clusters]
    assert spans == [1] * len(clusters)
    assert found[EVAL] and found[EVAL_NEAR], "without an eval set nothing is removed"


def test_eval_set_removes_the_prompt_and_its_near_duplicate(
    store: ExampleStore, tmp_path: Path
) -> None:
    """A planted evaluation prompt and its near duplicate are in no split; the rest stays."""
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text(
        json.dumps({"prompt": [{"role": "user", "content": EVAL.upper()}]}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    options = ExportOptions(eval_set=EvalSet.load(eval_file, n=5, threshold=0.5))
    manifest = export_snapshot(
        store,
        ExampleQuery("acme"),
        ExportFormat.OPENAI_CHAT,
        out,
        counter=CharTokenCounter(),
        options=options,
    ).manifest
    found = _splits_of(out, manifest)
    assert EVAL not in found and EVAL_NEAR not in found
    assert len(found) == 120 + 12 * 4
    report = manifest["splits"]["decontamination"]
    assert report["removed"] == 2 and report["eval_prompts"] == 1
    assert "2 examples removed" in (out / "README.md").read_text()


def test_bad_eval_set_is_one_clear_error(tmp_path: Path) -> None:
    """A JSONL line without a prompt names the line and the fix."""
    bad = tmp_path / "eval.jsonl"
    bad.write_text('{"question": "x"}\n', encoding="utf-8")
    with pytest.raises(ExportError, match=r"eval.jsonl:1: not a JSON object with a `prompt`"):
        EvalSet.load(bad, n=5, threshold=0.5)
    with pytest.raises(ExportError, match="sum to 1"):
        SplitAssigner((0.5, 0.1, 0.1))
