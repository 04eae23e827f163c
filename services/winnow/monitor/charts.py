"""SVG charts drawn as strings: the dashboard's, and the dataset card's histograms.

Every chart is inline SVG built here (no script, no external asset), so a page embedding them
stays self-contained under a strict Content-Security-Policy. Colours and sizes come from CSS
classes (``c-curated``, ``k-sft``, ``grid``, ...) that the embedding page styles. Every string
that comes from data goes through ``esc``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: the dataset card uses these charts without the monitor's store.
    from winnow.monitor.snapshot_model import Bucket

KIND_ORDER = ("sft", "preference", "negative")


def esc(value: object) -> str:
    """HTML-escape any value (quotes too: values also land in attributes)."""
    return html.escape(str(value), quote=True)


def pct(value: float | None, digits: int = 0) -> str:
    """A share as a percentage; an em dash when unknown."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def compact(n: float) -> str:
    """1234 -> 1.2k, 1200000 -> 1.2M: short axis and tile numbers."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            text = f"{n / size:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{n:g}" if isinstance(n, float) else str(n)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC; naive datetimes (SQLite gives them back) are taken as UTC already."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def fmt_time(at: datetime, bucket_s: float = 60, span_s: float = 0) -> str:
    """A bucket's label: seconds only for short buckets, the date only for long spans."""
    at = as_utc(at)
    if bucket_s >= 86400:
        return at.strftime("%b %d")
    clock = at.strftime("%H:%M:%S" if bucket_s < 60 else "%H:%M")
    return at.strftime("%b %d ") + clock if span_s >= 86400 else clock


def _svg(name: str, width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg class="chart" data-chart="{esc(name)}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def empty_note(message: str) -> str:
    """The placeholder shown where a chart has nothing to draw."""
    return f'<div class="empty">{esc(message)}</div>'


def _x_ticks(n: int, most: int = 6) -> list[int]:
    """Indices of up to ``most`` evenly spread x labels, first and last included."""
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def accept_rate_chart(
    buckets: Sequence[Bucket], *, name: str = "accept-rate", width: int = 760, height: int = 230
) -> str:
    """Accept rate per bucket as a line (gaps where a bucket has no examples), 0-100%."""
    if not any(b.accept_rate is not None for b in buckets):
        return empty_note("No examples curated or rejected in this period yet.")
    left, right, top, bottom = 44, 14, 12, 26
    pw, ph = width - left - right, height - top - bottom
    slot = pw / len(buckets)
    bucket_s = buckets[0].seconds or 60
    span_s = (buckets[-1].start - buckets[0].start).total_seconds()
    parts: list[str] = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = top + ph * (1 - tick)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(f'<text class="ylab" x="{left - 6}" y="{y + 3.5:.1f}">{tick:.0%}</text>')
    points: list[tuple[float, float, Bucket] | None] = []
    for i, b in enumerate(buckets):
        rate = b.accept_rate
        x = left + slot * (i + 0.5)
        points.append(None if rate is None else (x, top + ph * (1 - rate), b))
    segments: list[list[tuple[float, float, Bucket]]] = [[]]
    for p in points:
        if p is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append(p)
    base = top + ph
    for seg in (s for s in segments if s):
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in seg)
        area = f"{seg[0][0]:.1f},{base:.1f} {line} {seg[-1][0]:.1f},{base:.1f}"
        parts.append(f'<polygon class="area" points="{area}"/>')
        parts.append(f'<polyline class="line" points="{line}"/>')
    radius = 3.2 if len(buckets) <= 90 else 1.8
    for p in points:
        if p is None:
            continue
        x, y, b = p
        tip = (
            f"{fmt_time(b.start, bucket_s, span_s)} · {pct(b.accept_rate, 1)} accepted "
            f"({b.curated:,} of {b.curated + b.rejected:,} examples; {b.dlq:,} dead-lettered)"
        )
        parts.append(
            f'<circle class="pt" cx="{x:.1f}" cy="{y:.1f}" r="{radius}">'
            f"<title>{esc(tip)}</title></circle>"
        )
    parts.append(_x_labels(buckets, left, slot, height - 8, bucket_s, span_s))
    return _svg(name, width, height, "".join(parts), "accept rate over time")


def _x_labels(
    buckets: Sequence[Bucket], left: float, slot: float, y: float, bucket_s: float, span_s: float
) -> str:
    out = []
    ticks = _x_ticks(len(buckets))
    for i in ticks:
        x = left + slot * (i + 0.5)
        anchor = "start" if i == 0 and len(ticks) > 1 else "end" if i == len(buckets) - 1 else ""
        style = f' text-anchor="{anchor}"' if anchor else ""
        label = esc(fmt_time(buckets[i].start, bucket_s, span_s))
        out.append(f'<text class="xlab" x="{x:.1f}" y="{y:.1f}"{style}>{label}</text>')
    return "".join(out)


def volume_chart(
    buckets: Sequence[Bucket], *, name: str = "volume", width: int = 760, height: int = 200
) -> str:
    """Curated, rejected and dead-lettered records per bucket as stacked bars."""
    if not any(b.records for b in buckets):
        return empty_note("No records in this period yet.")
    left, right, top, bottom = 44, 14, 12, 26
    pw, ph = width - left - right, height - top - bottom
    slot = pw / len(buckets)
    bar = max(1.0, min(slot * 0.72, 28.0))
    peak = nice_ceiling(max(b.records for b in buckets))
    bucket_s = buckets[0].seconds or 60
    span_s = (buckets[-1].start - buckets[0].start).total_seconds()
    parts: list[str] = []
    for i in range(5):
        value = peak * i / 4
        y = top + ph * (1 - i / 4)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(f'<text class="ylab" x="{left - 6}" y="{y + 3.5:.1f}">{compact(value)}</text>')
    for i, b in enumerate(buckets):
        x = left + slot * (i + 0.5) - bar / 2
        y = top + ph
        tip = (
            f"{fmt_time(b.start, bucket_s, span_s)} · {b.curated:,} curated, "
            f"{b.rejected:,} rejected, {b.dlq:,} dead-lettered"
        )
        for outcome in ("curated", "rejected", "dlq"):
            n = int(getattr(b, outcome))
            if not n:
                continue
            h = ph * n / peak
            y -= h
            parts.append(
                f'<rect class="bar c-{outcome}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" rx="1.5"><title>{esc(tip)}</title></rect>'
            )
    parts.append(_x_labels(buckets, left, slot, height - 8, bucket_s, span_s))
    return _svg(name, width, height, "".join(parts), "records per bucket")


def hbar_chart(
    items: Sequence[tuple[str, int]],
    *,
    name: str,
    css: str,
    empty: str,
    width: int = 380,
    most: int = 10,
) -> str:
    """Labelled horizontal bars, largest first; the tail beyond ``most`` becomes one 'other'."""
    rows = sorted(((label, n) for label, n in items if n > 0), key=lambda r: (-r[1], r[0]))
    if not rows:
        return empty_note(empty)
    if len(rows) > most:
        rest = rows[most - 1 :]
        rows = [*rows[: most - 1], (f"{len(rest)} others", sum(n for _, n in rest))]
    label_w, value_w, row_h = 150, 52, 26
    bar_w = width - label_w - value_w
    peak = max(n for _, n in rows)
    height = row_h * len(rows) + 4
    parts: list[str] = []
    for i, (label, n) in enumerate(rows):
        y = 2 + i * row_h
        w = max(2.0, bar_w * n / peak)
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<g class="row" data-label="{esc(label)}"><title>{esc(label)}: {n:,}</title>'
            f'<text class="hlab" x="0" y="{y + 16}">{esc(short)}</text>'
            f'<rect class="track" x="{label_w}" y="{y + 5}" width="{bar_w}" height="14" rx="4"/>'
            f'<rect class="bar {esc(css)}" x="{label_w}" y="{y + 5}" width="{w:.1f}" '
            f'height="14" rx="4"/>'
            f'<text class="hval" x="{label_w + w + 6:.1f}" y="{y + 16}">{n:,}</text></g>'
        )
    return _svg(name, width, height, "".join(parts), name)


def sizes_chart(sizes: Mapping[str, Mapping[str, int]], *, width: int = 380) -> str:
    """Curated examples per domain, one stacked bar per domain split by kind."""
    rows = sorted(
        ((d, kinds, sum(kinds.values())) for d, kinds in sizes.items()), key=lambda r: (-r[2], r[0])
    )
    rows = [r for r in rows if r[2] > 0]
    if not rows:
        return empty_note("No curated examples stored yet.")
    label_w, value_w, row_h = 130, 52, 26
    bar_w = width - label_w - value_w
    peak = max(total for *_, total in rows)
    parts: list[str] = []
    for i, (domain, kinds, total) in enumerate(rows):
        y = 2 + i * row_h
        short = domain if len(domain) <= 19 else domain[:18] + "…"
        detail = ", ".join(f"{k} {kinds[k]:,}" for k in _kinds(kinds))
        parts.append(
            f'<g class="row" data-label="{esc(domain)}">'
            f"<title>{esc(domain)}: {total:,} ({esc(detail)})</title>"
        )
        parts.append(f'<text class="hlab" x="0" y="{y + 16}">{esc(short)}</text>')
        parts.append(
            f'<rect class="track" x="{label_w}" y="{y + 5}" width="{bar_w}" height="14" rx="4"/>'
        )
        x = float(label_w)
        for kind in _kinds(kinds):
            w = bar_w * kinds[kind] / peak
            if w <= 0:
                continue
            css = f"k-{kind}" if kind in KIND_ORDER else "k-other"
            parts.append(
                f'<rect class="bar {css}" x="{x:.1f}" y="{y + 5}" width="{max(w, 1.5):.1f}" '
                'height="14"/>'
            )
            x += w
        parts.append(f'<text class="hval" x="{x + 6:.1f}" y="{y + 16}">{compact(total)}</text></g>')
    return _svg("sizes", width, row_h * len(rows) + 4, "".join(parts), "dataset size per domain")


def _kinds(kinds: Mapping[str, int]) -> list[str]:
    known = [k for k in KIND_ORDER if kinds.get(k)]
    return known + sorted(k for k in kinds if k not in KIND_ORDER and kinds[k])


def histogram_chart(
    hists: Mapping[str, Sequence[int]],
    edges: Sequence[float],
    *,
    name: str,
    width: int = 360,
    height: int = 112,
) -> str:
    """One domain's score histogram: curated and rejected stacked per bin."""
    bins = len(edges) - 1
    order = [o for o in ("curated", "rejected", "seen") if o in hists]
    totals = [sum(int(hists[o][i]) for o in order if i < len(hists[o])) for i in range(bins)]
    left, right, top, bottom = 6, 6, 14, 18
    pw, ph = width - left - right, height - top - bottom
    slot = pw / bins
    peak = max(totals) or 1
    parts = [
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + ph}" y2="{top + ph}"/>',
        f'<text class="ylab" x="{width - right}" y="9">max {peak:,}</text>',
    ]
    for i in range(bins):
        y = float(top + ph)
        tip = f"[{edges[i]:g}, {edges[i + 1]:g}): " + ", ".join(
            f"{hists[o][i]:,} {o}" for o in order if i < len(hists[o])
        )
        for outcome in order:
            n = int(hists[outcome][i]) if i < len(hists[outcome]) else 0
            if not n:
                continue
            h = ph * n / peak
            y -= h
            parts.append(
                f'<rect class="bar c-{outcome}" x="{left + slot * i + 1:.1f}" y="{y:.1f}" '
                f'width="{max(slot - 2, 1):.1f}" height="{h:.1f}"><title>{esc(tip)}</title></rect>'
            )
    for i in (0, bins // 2, bins):
        anchor = "start" if i == 0 else "end" if i == bins else "middle"
        parts.append(
            f'<text class="xlab" x="{left + slot * i:.1f}" y="{height - 4}" '
            f'text-anchor="{anchor}">{edges[i]:g}</text>'
        )
    return _svg(name, width, height, "".join(parts), name)
