"""A snapshot as a Hugging Face dataset repository: parquet shards per config and split, README.md.

Layout, beside the per-domain training files::

    README.md                                          YAML header (configs, data_files, licence,
                                                       task categories, size) + the dataset card
    data/<domain>/<kind>/<split>-00000-of-00001.parquet one shard per config and split
    images/<domain>-<score>.svg                         score histograms the card shows

One config per (domain, kind): ``billing-sft``, ``billing-preference``... Its rows are those of
the snapshot's format (for ``kto``, the rows each kind gives), so
``datasets.load_dataset(path, "billing-sft")`` gives the splits a trainer reads. Empty splits are
left out of a config.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from winnow.export.card import DomainSample, histogram
from winnow.export.formats import ExportFormat, Row

README = "README.md"
SHARD = "{split}-00000-of-00001.parquet"
_SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))
_TASKS = {
    ExportFormat.OPENAI_CHAT: ["text-generation"],
    ExportFormat.DPO: ["text-generation", "reinforcement-learning"],
    ExportFormat.KTO: ["text-generation", "reinforcement-learning"],
    ExportFormat.PARQUET: ["text-generation"],
}


def _safe(name: str) -> str:
    from winnow.export.exporter import folder_name  # the exporter imports this module

    return folder_name(name)


def size_category(rows: int) -> str:
    """The Hub's ``size_categories`` bucket of a row count."""
    for limit, label in _SIZES:
        if rows < limit:
            return label
    return "n>1M"


@dataclass
class HubLayout:
    """Buffers rows per (domain, kind, split) and writes one parquet shard for each."""

    fmt: ExportFormat
    rows: dict[tuple[str, str, str], list[Row]] = field(default_factory=lambda: defaultdict(list))

    def write(self, domain: str, kind: str, split: str, rows: list[Row]) -> None:
        """Append rows to one config's split."""
        self.rows[(domain, kind, split)] += rows

    def close(self, out_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Write the shards; returns the configs (README header) and the files (manifest)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        configs: dict[str, list[dict[str, str]]] = defaultdict(list)
        files: list[dict[str, Any]] = []
        for (domain, kind, split), rows in sorted(self.rows.items()):
            rel = f"data/{_safe(domain)}/{kind}/{SHARD.format(split=split)}"
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if self.fmt is ExportFormat.PARQUET:
                table = pa.Table.from_pylist([_hub_row(r) for r in rows], schema=_hub_schema())
            else:
                table = pa.Table.from_pylist(rows)
            pq.write_table(table, path, compression="zstd")
            configs[f"{_safe(domain)}-{kind}"].append({"split": split, "path": rel})
            files.append(
                {
                    "path": rel,
                    "domain": domain,
                    "config": f"{_safe(domain)}-{kind}",
                    "split": split,
                    "rows": len(rows),
                    "bytes": path.stat().st_size,
                    "sha256": _sha256(path),
                }
            )
        self.rows.clear()
        return [
            {"config_name": name, "data_files": sorted(df, key=lambda d: _order(d["split"]))}
            for name, df in sorted(configs.items())
        ], files


def _hub_schema() -> Any:
    """The Parquet export's schema with maps as lists of pairs (`datasets` has no map type)."""
    import pyarrow as pa

    from winnow.export.parquet import SCHEMA

    pairs = {
        "scores": pa.list_(pa.struct([("name", pa.string()), ("value", pa.float64())])),
        "model_versions": pa.list_(pa.struct([("name", pa.string()), ("version", pa.string())])),
    }
    return pa.schema([pa.field(f.name, pairs.get(f.name, f.type)) for f in SCHEMA])


def _hub_row(row: Row) -> Row:
    return {
        **row,
        "scores": [{"name": k, "value": v} for k, v in row["scores"]],
        "model_versions": [{"name": k, "version": v} for k, v in row["model_versions"]],
    }


def _order(split: str) -> int:
    return (
        ["train", "validation", "test"].index(split)
        if split in {"train", "validation", "test"}
        else 9
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# The dashboard's chart classes, inlined: an image file carries its own style.
_SVG_STYLE = (
    "<style>text{font:11px system-ui,sans-serif;fill:#64748b}.ylab{text-anchor:end}"
    ".axis{stroke:#e5e9f2}.c-curated{fill:#10b981}</style>"
)


def svg_file(title: str, values: list[float]) -> str:
    """A standalone SVG histogram of ``values`` (the dashboard's chart, with its style)."""
    from winnow.monitor.charts import histogram_chart

    low, high, counts = histogram(values)
    width = (high - low) / len(counts) or 1.0
    last = high if high > low else low + len(counts) * width
    edges = [low + i * width for i in range(len(counts))] + [last]
    chart = histogram_chart({"curated": counts}, edges, name=f"{title} (n={len(values)})")
    head, _, body = chart.partition(">")
    return f'{head} width="360" height="112">{_SVG_STYLE}{body}\n'


def write_images(out_dir: Path, samples: dict[str, DomainSample]) -> dict[str, list[str]]:
    """Score and length histograms per domain as SVG files; their paths per domain."""
    out: dict[str, list[str]] = {}
    for domain, s in sorted(samples.items()):
        paths = []
        for name, values in (
            ("reward", s.reward),
            ("relevance", s.relevance),
            ("answer-chars", s.answer_chars),
        ):
            rel = f"images/{_safe(domain)}-{name}.svg"
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (out_dir / rel).write_text(svg_file(name, values), encoding="utf-8")
            paths.append(rel)
        out[domain] = paths
    return out


def render_readme(
    manifest: dict[str, Any],
    configs: list[dict[str, Any]],
    images: dict[str, list[str]],
    provenance: Counter[str],
    *,
    license_id: str,
) -> str:
    """README.md: the Hub's YAML header, then the dataset card in Markdown."""
    fmt = ExportFormat(manifest["format"])
    rows = sum(f["rows"] for f in manifest["dataset"]["files"])
    header = {
        "license": license_id,
        "task_categories": _TASKS[fmt],
        "size_categories": [size_category(rows)],
        "tags": ["winnow", f"format:{fmt.value}"],
        "configs": configs,
    }
    tokens, optimal, counts = manifest["tokens"], manifest["compute_optimal"], manifest["counts"]
    lines = [
        "---",
        yaml.safe_dump(header, sort_keys=False).rstrip(),
        "---",
        f"# Winnow snapshot `{manifest['snapshot_id'][:12]}`",
        "",
        f"Tenant `{manifest['tenant']}`, format `{fmt.value}`: {counts['examples']} examples, "
        f"{counts['rows']} rows, {tokens['total']:,} tokens ({tokens['tokenizer']}). "
        f"A compute-optimal model (Chinchilla, ~{optimal['tokens_per_parameter']} tokens per "
        f"parameter) for these tokens has ~{optimal['parameters']:,} parameters.",
        "",
        "Load one config: `datasets.load_dataset(PATH, CONFIG)`; configs are `<domain>-<kind>`.",
        "",
        "## Configs and splits",
        "",
        "| config | split | rows |",
        "|---|---|---|",
        *(f"| {f['config']} | {f['split']} | {f['rows']} |" for f in manifest["dataset"]["files"]),
        "",
        "## Provenance",
        "",
        *(f"- {who}: {n}" for who, n in sorted(provenance.items())),
        "",
    ]
    for domain in sorted(images):
        info = counts["by_domain"][domain]
        lines += [
            f"## {domain}",
            "",
            f"{info['examples']} examples, {info['rows']} rows "
            f"({json.dumps(info['by_kind'], sort_keys=True)}), {tokens['by_domain'][domain]:,} "
            f"tokens: ~{optimal['by_domain'][domain]:,} parameters compute-optimal.",
            "",
            *(f"![{Path(p).stem}]({p})" for p in images[domain]),
            "",
        ]
    lines += _gaps(manifest)
    return "\n".join(lines) + "\n"


def _gaps(manifest: dict[str, Any]) -> list[str]:
    conflicts = manifest["conflicts"]
    decontam = manifest["splits"]["decontamination"]
    return [
        "## PII",
        "",
        "Every text was scanned for PII again on export; replaced: "
        f"`{json.dumps(manifest['pii']['redacted'], sort_keys=True)}`.",
        "",
        "## Known gaps",
        "",
        f"- Feedback conflicts ({conflicts['policy']} policy): {conflicts['label_conflicts']} "
        f"label conflicts, {conflicts['unresolved']} unresolved and left out, "
        f"{conflicts['correction_conflicts']} prompts with disagreeing corrections (one kept).",
        "- Splits are by conversation (prompt) hash with near-duplicate clusters kept together; "
        f"fractions {manifest['splits']['fractions']}.",
        "- Decontamination: "
        + (
            f"{decontam['removed']} examples removed against {decontam['eval_prompts']} "
            f"evaluation prompts ({decontam['ngram']}-grams, threshold {decontam['threshold']})."
            if decontam["eval_set"]
            else "none (no evaluation set given)."
        ),
        f"- Token counts use `{manifest['tokens']['method']}`, a proxy for the target model's "
        "tokenizer.",
        "",
    ]
