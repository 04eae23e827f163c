"""Write a snapshot: per-domain files, ``manifest.json`` and ``card.html``, then record it.

Layout of an export folder::

    DIR/manifest.json            what is in it, and its content hash (the snapshot id); last
    DIR/card.html                the dataset card, with histograms
    DIR/README.md, data/, images/  the same rows as a Hugging Face dataset repository, in
                                 train/validation/test splits (see :mod:`winnow.export.hub`)
    DIR/<domain>/<format file>   one file per domain (``openai-chat.jsonl``, ``dpo.jsonl``,
                                 ``kto.jsonl`` or ``examples.parquet``)

Before anything is written, feedback conflicts are resolved over the tenant
(:mod:`winnow.export.conflicts`) and conversations are clustered into splits, optionally
decontaminated against an evaluation set (:mod:`winnow.export.splits`).

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from winnow.example import Example
from winnow.export.card import DomainSample, render_card
from winnow.export.conflicts import ConflictPolicy, resolve
from winnow.export.exceptions import ExportError
from winnow.export.formats import ExportFormat, FileWriter, Row, rows_for
from winnow.export.hub import README, HubLayout, render_readme, write_images
from winnow.export.splits import EvalSet, SplitAssigner
from winnow.export.tokens import TOKENS_PER_PARAMETER, TokenCounter, compute_optimal_parameters
from winnow.pii.redact import redact_pii
from winnow.settings import Settings
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
    url: str | None = None
    """Where the snapshot was published, when not at ``path``."""

    @property
    def location(self) -> str:
        """The URL it was published to, else its local folder."""
        return self.url or str(self.path.resolve())

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
        result = redact_pii(text, entities=True)
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


def unseen_rows(rows: list[Row], seen: set[bytes]) -> list[Row]:
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


@dataclass(frozen=True)
class ExportOptions:
    """How an export resolves conflicts, splits and decontaminates, and its dataset licence."""

    policy: ConflictPolicy = ConflictPolicy.LATEST
    min_count: int = 2
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    near_threshold: float = 0.75
    eval_set: EvalSet | None = None
    license_id: str = "other"


def options_from(settings: Settings, eval_set: Path | None = None) -> ExportOptions:
    """Export options from the settings; ``eval_set`` overrides ``settings.eval_set_path``."""
    loaded = None
    eval_set = eval_set or settings.eval_set_path
    if eval_set is not None:
        loaded = EvalSet.load(
            eval_set, n=settings.decontam_ngram, threshold=settings.decontam_threshold
        )
    return ExportOptions(
        policy=ConflictPolicy(settings.feedback_conflict_policy),
        min_count=settings.feedback_conflict_min_count,
        fractions=settings.split_fractions,
        near_threshold=settings.split_near_threshold,
        eval_set=loaded,
        license_id=settings.snapshot_license,
    )


@dataclass
class _Run:
    """What one export accumulates while it streams."""

    out_dir: Path
    fmt: ExportFormat
    counter: TokenCounter
    hub: HubLayout
    seen_rows: set[bytes] = field(default_factory=set)
    domains: dict[str, _Domain] = field(default_factory=lambda: defaultdict(_Domain))
    writers: dict[str, FileWriter] = field(default_factory=dict)
    versions: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    pii: Counter[str] = field(default_factory=Counter)
    ingest: Counter[str] = field(default_factory=Counter)
    provenance: Counter[str] = field(default_factory=Counter)

    def add(self, stored: StoredExample, split: str) -> None:
        """Write one example's rows (those not written before) to its domain's files."""
        example, hits = scrub(stored.example)
        self.pii.update(hits)
        self.ingest.update(stored.example.redactions)
        stats = self.domains[stored.domain]
        rows = rows_for(example, self.fmt)
        if not rows:
            stats.skipped[example.kind.value] += 1
            return
        rows = unseen_rows(rows, self.seen_rows)
        if not rows:
            return
        writer = self.writers.get(stored.domain)
        if writer is None:
            path = self.out_dir / folder_name(stored.domain) / self.fmt.file_name
            writer = self.writers[stored.domain] = FileWriter(path, self.fmt)
        for row in rows:
            writer.write(row)
            stats.tokens += sum(self.counter.count(row_texts(row)))
        self.hub.write(stored.domain, example.kind.value, split, rows)
        stats.examples += 1
        stats.rows += len(rows)
        stats.by_kind[example.kind.value] += 1
        self.provenance[example.provenance] += 1
        for name, version in example.model_versions.items():
            self.versions[name].add(version)
        sample = stats.sample
        for key, values in (("reward", sample.reward), ("relevance", sample.relevance)):
            if key in example.scores:
                values.append(example.scores[key])
        sample.answer_chars.append(float(len(example.answer)))


def export_snapshot(
    store: ExampleStore,
    query: ExampleQuery,
    fmt: ExportFormat,
    out_dir: Path,
    *,
    counter: TokenCounter,
    progress: Progress | None = None,
    options: ExportOptions | None = None,
    policy: ConflictPolicy | None = None,
    min_count: int | None = None,
) -> ExportResult:
    """Export the examples ``query`` selects into ``out_dir`` (absent or empty).

    A first pass over every example of the tenant resolves feedback conflicts (see
    :mod:`winnow.export.conflicts`) and clusters conversations for the splits (see
    :mod:`winnow.export.splits`); the second writes the examples that agree with the resolution
    and are not contaminated, each row once. ``policy`` and ``min_count`` override ``options``.
    """
    opts = options or ExportOptions()
    if policy is not None or min_count is not None:
        opts = replace(opts, policy=policy or opts.policy, min_count=min_count or opts.min_count)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"{out_dir} exists and is not an empty folder")
    assigner = SplitAssigner(opts.fractions, threshold=opts.near_threshold, eval_set=opts.eval_set)

    def first_pass() -> Iterator[Example]:  # one read of the tenant feeds both
        for s in iter_examples(store, ExampleQuery(query.tenant)):
            assigner.add(s.example)
            yield s.example

    resolution = resolve(first_pass(), opts.policy, min_count=opts.min_count)
    assigner.finish()
    out_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(out_dir, fmt, counter, HubLayout(fmt))
    watermark: datetime | None = None
    stream = iter_examples(store, query)
    try:
        for stored in progress(stream) if progress else stream:
            if watermark is None or stored.stored_at > watermark:
                watermark = stored.stored_at  # of every matched row, exported or not
            if resolution.agrees(stored.example) and not assigner.contaminated(stored.example):
                run.add(stored, assigner.split(stored.example))
    finally:
        for writer in run.writers.values():
            writer.close()
    manifest = _finish(run, query, resolution.report.as_dict(), assigner, opts)
    return ExportResult(out_dir, manifest, watermark)


def _finish(
    run: _Run,
    query: ExampleQuery,
    conflicts: dict[str, Any],
    assigner: SplitAssigner,
    opts: ExportOptions,
) -> dict[str, Any]:
    """Write the shards, the manifest, the card and the README; return the manifest."""
    out_dir = run.out_dir
    files = sorted(
        (
            {
                "path": w.path.relative_to(out_dir).as_posix(),
                "domain": d,
                "rows": w.rows,
                "bytes": w.path.stat().st_size,
                "sha256": _sha256(w.path),
            }
            for d, w in run.writers.items()
        ),
        key=lambda f: str(f["path"]),
    )
    configs, shards = run.hub.close(out_dir)
    manifest = _manifest(
        query, run.fmt, files, run.domains, run.versions, run.pii, run.counter, shards
    )
    manifest["conflicts"] = conflicts
    manifest["pii"] = pii_report(run.ingest, run.pii)
    manifest["dataset"] = {"configs": configs, "files": shards, "license": opts.license_id}
    manifest["splits"] = {
        "fractions": list(opts.fractions),
        "near_duplicate_threshold": opts.near_threshold,
        "decontamination": assigner.report(),
    }
    samples = {d: s.sample for d, s in run.domains.items()}
    images = write_images(out_dir, samples)
    readme = render_readme(manifest, configs, images, run.provenance, license_id=opts.license_id)
    (out_dir / README).write_text(readme, encoding="utf-8")
    (out_dir / CARD).write_text(render_card(manifest, samples), encoding="utf-8")
    # Last: a reader trusts a folder only once its manifest is there.
    (out_dir / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def _manifest(
    query: ExampleQuery,
    fmt: ExportFormat,
    files: list[dict[str, Any]],
    domains: dict[str, _Domain],
    versions: dict[str, set[str]],
    pii: Counter[str],
    counter: TokenCounter,
    shards: list[dict[str, Any]],
) -> dict[str, Any]:
    total_tokens = sum(d.tokens for d in domains.values())
    by_kind: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for d in domains.values():
        by_kind.update(d.by_kind)
        skipped.update(d.skipped)
    return {
        "schema": MANIFEST_SCHEMA,
        "snapshot_id": snapshot_hash(query.tenant, fmt, files + shards),
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
        "pii": pii_report(Counter(), pii),
    }


# What the redactor does not find, said in every manifest so "0 found" is not read as "clean".
NOT_COVERED = (
    'names, ids and credentials with neither a cue ("my name is", "PIN"), capitals, a '
    "name-list entry nor a question before them",
    "names and places outside the Census and gender-guesser lists when they are also common "
    'English words ("Hope", "Long")',
    "postal addresses with neither a house number, a street-type word, a listed large city "
    'nor an "address" cue',
    "dates of birth with no date-of-birth question or cue before them, ages and other "
    "quasi-identifiers (city, employer, job title)",
    'e-mails written without punctuation ("namegmailcom") and spelled-out numbers',
    "text inside attachments, images and non-English scripts",
)


def pii_report(ingest: Counter[str], export: Counter[str]) -> dict[str, Any]:
    """The manifest's PII section: detectors, hits per type at ingest and at this re-scan, and
    what the detectors do not cover."""
    from winnow.pii.types import PiiType

    return {
        "rescanned": True,
        "detectors": [t.value for t in PiiType],
        "found_at_ingest": dict(sorted(ingest.items())),
        "found_at_export": dict(sorted(export.items())),
        "redacted": dict(sorted(export.items())),  # kept for readers of the old field
        "not_covered": list(NOT_COVERED),
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
            "path": result.location,
            "created_at": datetime.now(UTC),
        },
    )
