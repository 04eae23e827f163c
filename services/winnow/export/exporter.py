"""Write a snapshot: per-domain files, ``manifest.json`` and ``card.html``, then record it.

Layout of an export folder::

    DIR/manifest.json            what is in it, and its content hash (the snapshot id)
    DIR/card.html                the dataset card, with histograms
    DIR/<domain>/<format file>   one file per domain (``openai-chat.jsonl``, ``dpo.jsonl``,
                                 ``kto.jsonl`` or ``examples.parquet``)

Examples are read in id order and written in that order, and nothing that changes between runs
(wall-clock time, the output path) goes into the files or the manifest: the same rows and filters
give the same bytes and the same snapshot id. The snapshot id hashes the tenant, the format and
every file's path and sha256.

The store holds redacted text only, but every text is scanned for PII again on the way out
(defence in depth): hits are replaced by their placeholders and counted in the manifest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from winnow.example import Example
from winnow.export.card import DomainSample, render_card
from winnow.export.conflicts import ConflictPolicy, resolve
from winnow.export.exceptions import ExportError
from winnow.export.formats import ExportFormat, FileWriter, Row, rows_for
from winnow.export.tokens import TOKENS_PER_PARAMETER, TokenCounter, compute_optimal_parameters
from winnow.pii.redact import redact_pii
from winnow.store.queries import ExampleQuery, StoredExample, iter_examples, record_snapshot
from winnow.store.store import ExampleStore

MANIFEST = "manifest.json"
CARD = "card.html"
MANIFEST_SCHEMA = "winnow.export_manifest.v1"
_TEXT_KEYS = ("messages", "prompt", "chosen", "rejected", "completion")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

Progress = Callable[[Iterator[StoredExample]], Iterable[StoredExample]]
Purpose = Literal["export", "retrain"]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: its folder, its manifest and the newest ``stored_at`` in it."""

    path: Path
    manifest: dict[str, Any]
    watermark: datetime | None

    @property
    def snapshot_id(self) -> str:
        """The content hash of the exported files."""
        return str(self.manifest["snapshot_id"])

    @property
    def tokens(self) -> int:
        """Tokens of every exported row."""
        return int(self.manifest["tokens"]["total"])


@dataclass
class _Domain:
    examples: int = 0
    rows: int = 0
    tokens: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    sample: DomainSample = field(default_factory=DomainSample)


def folder_name(domain: str) -> str:
    """A domain name made safe as a folder name."""
    name = _UNSAFE.sub("_", domain)
    return "_" if name in {"", ".", ".."} else name


def scrub(example: Example) -> tuple[Example, Counter[str]]:
    """Redact any PII left in an example's texts (the id is kept); count hits by type."""
    hits: Counter[str] = Counter()

    def clean(text: str) -> str:
        result = redact_pii(text)
        hits.update({t.value: n for t, n in result.counts.items()})
        return result.text

    messages = [m.model_copy(update={"content": clean(m.content)}) for m in example.messages]
    chosen = clean(example.chosen) if example.chosen is not None else None
    rejected = clean(example.rejected) if example.rejected is not None else None
    if not hits:
        return example, hits
    update = {"messages": messages, "chosen": chosen, "rejected": rejected}
    return example.model_copy(update=update), hits


def row_texts(row: Row) -> list[str]:
    """Every text a training row holds (message contents, responses)."""
    texts: list[str] = []
    for key in _TEXT_KEYS:
        value = row.get(key)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts += [m["content"] for m in value]
    return texts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _unseen(rows: list[Row], seen: set[bytes]) -> list[Row]:
    """Rows not written before (a correction's preference and SFT copy give the same row)."""
    out = []
    for row in rows:
        canonical = json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)
        digest = hashlib.blake2b(canonical.encode(), digest_size=16).digest()
        if digest not in seen:
            seen.add(digest)
            out.append(row)
    return out


def snapshot_hash(tenant: str, fmt: ExportFormat, files: list[dict[str, Any]]) -> str:
    """Content hash of a snapshot: tenant, format, and every file's path and sha256."""
    canonical = json.dumps(
        {"tenant": tenant, "format": fmt.value, "files": [[f["path"], f["sha256"]] for f in files]},
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def export_snapshot(
    store: ExampleStore,
    query: ExampleQuery,
    fmt: ExportFormat,
    out_dir: Path,
    *,
    counter: TokenCounter,
    progress: Progress | None = None,
    policy: ConflictPolicy = ConflictPolicy.LATEST,
    min_count: int = 2,
) -> ExportResult:
    """Export the examples ``query`` selects into ``out_dir`` (absent or empty).

    Feedback conflicts are resolved first over every example of the tenant (``policy``, see
    :mod:`winnow.export.conflicts`): an example that contradicts the resolution is left out, and
    a row already written to a file is not written again.
    """
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"{out_dir} exists and is not an empty folder")
    resolution = resolve(
        (s.example for s in iter_examples(store, ExampleQuery(query.tenant))),
        policy,
        min_count=min_count,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    seen_rows: set[bytes] = set()
    domains: dict[str, _Domain] = defaultdict(_Domain)
    writers: dict[str, FileWriter] = {}
    versions: defaultdict[str, set[str]] = defaultdict(set)
    pii: Counter[str] = Counter()
    watermark: datetime | None = None
    stream = iter_examples(store, query)
    try:
        for stored in progress(stream) if progress else stream:
            if watermark is None or stored.stored_at > watermark:
                watermark = stored.stored_at  # of every matched row, exported or not
            if not resolution.agrees(stored.example):
                continue
            example, hits = scrub(stored.example)
            pii.update(hits)
            stats = domains[stored.domain]
            rows = rows_for(example, fmt)
            if not rows:
                stats.skipped[example.kind.value] += 1
                continue
            rows = _unseen(rows, seen_rows)
            if not rows:
                continue
            writer = writers.get(stored.domain)
            if writer is None:
                path = out_dir / folder_name(stored.domain) / fmt.file_name
                writer = writers[stored.domain] = FileWriter(path, fmt)
            for row in rows:
                writer.write(row)
                stats.tokens += sum(counter.count(row_texts(row)))
            stats.examples += 1
            stats.rows += len(rows)
            stats.by_kind[example.kind.value] += 1
            for name, version in example.model_versions.items():
                versions[name].add(version)
            sample = stats.sample
            for key, values in (("reward", sample.reward), ("relevance", sample.relevance)):
                if key in example.scores:
                    values.append(example.scores[key])
            stats.sample.answer_chars.append(float(len(example.answer)))
    finally:
        for writer in writers.values():
            writer.close()
    files = sorted(
        (
            {
                "path": w.path.relative_to(out_dir).as_posix(),
                "domain": d,
                "rows": w.rows,
                "bytes": w.path.stat().st_size,
                "sha256": _sha256(w.path),
            }
            for d, w in writers.items()
        ),
        key=lambda f: str(f["path"]),
    )
    manifest = _manifest(query, fmt, files, domains, versions, pii, counter)
    manifest["conflicts"] = resolution.report.as_dict()
    (out_dir / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    samples = {d: s.sample for d, s in domains.items()}
    (out_dir / CARD).write_text(render_card(manifest, samples), encoding="utf-8")
    return ExportResult(out_dir, manifest, watermark)


def _manifest(
    query: ExampleQuery,
    fmt: ExportFormat,
    files: list[dict[str, Any]],
    domains: dict[str, _Domain],
    versions: dict[str, set[str]],
    pii: Counter[str],
    counter: TokenCounter,
) -> dict[str, Any]:
    total_tokens = sum(d.tokens for d in domains.values())
    by_kind: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for d in domains.values():
        by_kind.update(d.by_kind)
        skipped.update(d.skipped)
    return {
        "schema": MANIFEST_SCHEMA,
        "snapshot_id": snapshot_hash(query.tenant, fmt, files),
        "tenant": query.tenant,
        "format": fmt.value,
        "filters": {**query.describe(), "format": fmt.value},
        "counts": {
            "examples": sum(d.examples for d in domains.values()),
            "rows": sum(d.rows for d in domains.values()),
            "by_kind": dict(sorted(by_kind.items())),
            "skipped_by_kind": dict(sorted(skipped.items())),
            "by_domain": {
                name: {
                    "examples": d.examples,
                    "rows": d.rows,
                    "by_kind": dict(sorted(d.by_kind.items())),
                    "skipped_by_kind": dict(sorted(d.skipped.items())),
                }
                for name, d in sorted(domains.items())
            },
        },
        "files": files,
        "tokens": {
            **counter.describe(),
            "total": total_tokens,
            "by_domain": {name: d.tokens for name, d in sorted(domains.items())},
        },
        "compute_optimal": {
            "rule": "Chinchilla (Hoffmann et al., 2022): ~20 training tokens per parameter",
            "tokens_per_parameter": TOKENS_PER_PARAMETER,
            "parameters": compute_optimal_parameters(total_tokens),
            "by_domain": {
                name: compute_optimal_parameters(d.tokens) for name, d in sorted(domains.items())
            },
        },
        "model_versions": {name: sorted(v) for name, v in sorted(versions.items())},
        "pii": {"rescanned": True, "redacted": dict(sorted(pii.items()))},
    }


def record(store: ExampleStore, result: ExportResult, purpose: Purpose = "export") -> bool:
    """Record an export in the store's ``snapshots`` table; False when it was there already."""
    manifest = result.manifest
    domain = manifest["filters"]["domain"]
    return record_snapshot(
        store,
        {
            "id": result.snapshot_id,
            "tenant": manifest["tenant"],
            "domain": domain,
            "domains": sorted(manifest["counts"]["by_domain"]),
            "purpose": purpose,
            "format": manifest["format"],
            "counts": manifest["counts"]["by_kind"],
            "examples": manifest["counts"]["examples"],
            "tokens": result.tokens,
            "watermark": result.watermark,
            "manifest": manifest,
            "path": str(result.path.resolve()),
            "created_at": datetime.now(UTC),
        },
    )
