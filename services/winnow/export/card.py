"""The dataset card: one self-contained HTML page with inline SVG histograms, no dependencies.

The histograms are the dashboard's (``winnow.monitor.charts.histogram_chart``).

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

from winnow.monitor.charts import esc, histogram_chart

_BINS = 20
# The chart classes ``histogram_chart`` draws with (the dashboard's colours, light only).
_CSS = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#0f172a}"
    ".mini{display:inline-block;width:360px;margin:0 16px 16px 0}"
    ".mini figcaption{font-size:12px;color:#64748b}"
    ".chart{width:100%;height:auto;display:block;overflow:visible}"
    ".chart text{font-size:11px;fill:#64748b}.chart .ylab{text-anchor:end}"
    ".chart .axis{stroke:#e5e9f2}.c-curated{fill:#10b981}"
)


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
    """A captioned inline SVG histogram of ``values`` (the dashboard's ``histogram_chart``)."""
    low, high, counts = histogram(values)
    width = (high - low) / len(counts) or 1.0
    last = high if high > low else low + len(counts) * width
    edges = [low + i * width for i in range(len(counts))] + [last]
    label = f"{title} (n={len(values)})"
    chart = histogram_chart({"curated": counts}, edges, name=label)
    return f'<figure class="mini"><figcaption>{esc(label)}</figcaption>{chart}</figure>'


def _pii_section(pii: dict[str, Any]) -> str:
    """Which detectors ran, what they found at ingest and at export, and what they miss."""

    def counts(found: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(found.items())) or "none"

    missed = "".join(f"<li>{html.escape(m)}</li>" for m in pii.get("not_covered", []))
    return (
        "<h2>Personal data</h2>"
        f"<p>Detectors: {html.escape(', '.join(pii.get('detectors', [])))}.</p>"
        f"<p>Redacted at ingest (validator): {html.escape(counts(pii.get('found_at_ingest', {})))}."
        f" Found again by the export re-scan (and redacted): "
        f"{html.escape(counts(pii.get('found_at_export', pii.get('redacted', {}))))}.</p>"
        f"<p>Not covered, so none found does not mean none present:</p><ul>{missed}</ul>"
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
        f"<title>Winnow snapshot {manifest['snapshot_id'][:12]}</title><style>{_CSS}</style>"
        "</head><body>"
        f"<h1>Winnow dataset card</h1><p>Snapshot <code>{manifest['snapshot_id']}</code>, "
        f"tenant <code>{html.escape(manifest['tenant'])}</code>, format "
        f"<code>{manifest['format']}</code>.</p>"
        f"<p>{manifest['counts']['examples']} examples, {manifest['counts']['rows']} rows, "
        f"{tokens['total']:,} tokens ({html.escape(tokens['tokenizer'])}); Chinchilla "
        f"(~{optimal['tokens_per_parameter']} tokens per parameter): "
        f"~{optimal['parameters']:,} parameters.</p>"
        f"<p>Filters: <code>{filters}</code></p><p>Models: <code>{versions}</code></p>"
        + _pii_section(manifest["pii"])
        + "".join(sections)
        + "</body></html>\n"
    )
