"""The dataset card: one self-contained HTML page with inline SVG histograms, no dependencies.

Per domain it shows counts, tokens and histograms of the reward and relevance scores and of the
answer lengths. The page holds nothing that changes between runs, so equal snapshots have equal
cards.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_BINS = 20
_W, _H, _PAD = 360, 120, 18


@dataclass
class DomainSample:
    """Values collected for one domain's histograms."""

    reward: list[float] = field(default_factory=list)
    relevance: list[float] = field(default_factory=list)
    answer_chars: list[float] = field(default_factory=list)


def histogram(values: Sequence[float], bins: int = _BINS) -> tuple[float, float, list[int]]:
    """``(low, high, counts)`` of ``values`` in ``bins`` equal bins (the last one closed)."""
    if not values:
        return 0.0, 0.0, [0] * bins
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - low) / width), bins - 1)] += 1
    return low, high, counts


def svg_histogram(title: str, values: Sequence[float]) -> str:
    """An inline SVG bar chart of ``values``."""
    low, high, counts = histogram(values)
    peak = max(counts) or 1
    bar = (_W - 2 * _PAD) / len(counts)
    bars = []
    for i, n in enumerate(counts):
        h = (_H - 2 * _PAD) * n / peak
        x, y = _PAD + i * bar, _H - _PAD - h
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
            f'fill="#4c78a8"><title>{n}</title></rect>'
        )
    label = f"{html.escape(title)} (n={len(values)})"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img" '
        f'aria-label="{label}"><text x="{_PAD}" y="12" font-size="11">{label}</text>'
        + "".join(bars)
        + f'<text x="{_PAD}" y="{_H - 4}" font-size="10">{low:.3g}</text>'
        f'<text x="{_W - _PAD}" y="{_H - 4}" font-size="10" text-anchor="end">{high:.3g}</text>'
        "</svg>"
    )


def render_card(manifest: dict[str, Any], samples: dict[str, DomainSample]) -> str:
    """The card's HTML for a manifest and the per-domain samples."""
    tokens = manifest["tokens"]
    optimal = manifest["compute_optimal"]
    sections = []
    for domain in sorted(samples):
        s = samples[domain]
        info = manifest["counts"]["by_domain"][domain]
        charts = "".join(
            svg_histogram(title, values)
            for title, values in (
                ("reward", s.reward),
                ("relevance", s.relevance),
                ("answer length (characters)", s.answer_chars),
            )
        )
        sections.append(
            f"<h2>{html.escape(domain)}</h2><p>{info['examples']} examples, {info['rows']} rows "
            f"({html.escape(json.dumps(info['by_kind'], sort_keys=True))}), "
            f"{tokens['by_domain'][domain]:,} tokens: a compute-optimal model of "
            f"~{optimal['by_domain'][domain]:,} parameters.</p>{charts}"
        )
    filters = html.escape(json.dumps(manifest["filters"], sort_keys=True))
    versions = html.escape(json.dumps(manifest["model_versions"], sort_keys=True))
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>Winnow snapshot {manifest['snapshot_id'][:12]}</title></head><body>"
        f"<h1>Winnow dataset card</h1><p>Snapshot <code>{manifest['snapshot_id']}</code>, "
        f"tenant <code>{html.escape(manifest['tenant'])}</code>, format "
        f"<code>{manifest['format']}</code>.</p>"
        f"<p>{manifest['counts']['examples']} examples, {manifest['counts']['rows']} rows, "
        f"{tokens['total']:,} tokens ({html.escape(tokens['tokenizer'])}); Chinchilla "
        f"(~{optimal['tokens_per_parameter']} tokens per parameter): "
        f"~{optimal['parameters']:,} parameters.</p>"
        f"<p>Filters: <code>{filters}</code></p><p>Models: <code>{versions}</code></p>"
        f"<p>PII re-scan: <code>{html.escape(json.dumps(manifest['pii'], sort_keys=True))}"
        "</code></p>" + "".join(sections) + "</body></html>\n"
    )
