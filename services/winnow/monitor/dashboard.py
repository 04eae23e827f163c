"""The data-quality dashboard: a ``Snapshot`` rendered as one self-contained HTML page.

Everything is inline (CSS, SVG charts drawn here, and for the live page a few lines of script
that re-fetch the body): clusters may be air-gapped, so the page loads nothing from anywhere,
and its Content-Security-Policy says so. Every string that comes from data (domains, tenants,
reasons, rule labels, summaries, errors) goes through ``esc``.

``render_page`` gives the whole page; ``render_body`` the part the live page swaps in on each
refresh (``/dashboard/fragment``), so the static report and the live page draw the same thing.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from winnow.monitor.snapshot import Bucket, Snapshot, ValidationRun
from winnow.monitor.store import StoredAlert
from winnow.monitor.window import SCORE_EDGES

OUTCOME_LABELS = {"curated": "curated", "rejected": "rejected", "dlq": "dead-lettered"}
KIND_ORDER = ("sft", "preference", "negative")
SCORE_ORDER = ("reward", "relevance", "domain_confidence")
SCORE_HELP = {
    "reward": "reward model: how good the answer is (0-1)",
    "relevance": "answer-to-question relevance (cosine, -1 to 1)",
    "domain_confidence": "router's confidence in the domain (0-1)",
}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
FRAGMENT_PATH = "dashboard/fragment"
"""Relative to ``/dashboard``: what the live page fetches on each refresh."""


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


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def fmt_time(at: datetime, bucket_s: float = 60, span_s: float = 0) -> str:
    """A bucket's label: seconds only for short buckets, the date only for long spans."""
    at = _utc(at)
    if bucket_s >= 86400:
        return at.strftime("%b %d")
    clock = at.strftime("%H:%M:%S" if bucket_s < 60 else "%H:%M")
    return at.strftime("%b %d ") + clock if span_s >= 86400 else clock


def ago(at: datetime, now: datetime) -> str:
    """How long before ``now``: 45s, 12m, 3h, 2d."""
    seconds = max(0.0, (_utc(now) - _utc(at)).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def stamp(at: datetime) -> str:
    """An absolute UTC time for tooltips and footers."""
    return _utc(at).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- charts ----------------------------------------------------------------------------------


def _svg(name: str, width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg class="chart" data-chart="{esc(name)}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _empty(message: str) -> str:
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
        return _empty("No examples curated or rejected in this period yet.")
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
        return _empty("No records in this period yet.")
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
        return _empty(empty)
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
        return _empty("No curated examples stored yet.")
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


# --- sections --------------------------------------------------------------------------------


def _card(title: str, body: str, *, span: int, sub: str = "", name: str = "") -> str:
    data = f' data-section="{esc(name)}"' if name else ""
    subtitle = f'<p class="sub">{sub}</p>' if sub else ""
    return (
        f'<section class="card span-{span}"{data}><header><h2>{esc(title)}</h2>{subtitle}'
        f"</header>{body}</section>"
    )


def _legend(*items: tuple[str, str]) -> str:
    spans = "".join(f'<span><i class="sw {css}"></i>{esc(label)}</span>' for css, label in items)
    return f'<div class="legend">{spans}</div>'


def _kpis(s: Snapshot) -> str:
    firing = len(s.active_alerts)
    worst = min((SEVERITY_ORDER.get(a.severity, 3) for a in s.active_alerts), default=None)
    tone = {0: "bad", 1: "warn", 2: "info"}.get(worst or 0, "") if firing else "good"
    rate = s.accept_rate
    tiles = [
        ("curated", "Curated", f"{s.curated:,}", "examples accepted", "good" if s.curated else ""),
        ("rejected", "Rejected", f"{s.rejected:,}", "examples dropped with a reason", ""),
        ("dlq", "Dead letters", f"{s.dlq:,}", "records that never became examples", ""),
        ("accept-rate", "Accept rate", pct(rate, 1), "curated ÷ (curated + rejected)", ""),
        ("alerts", "Active alerts", f"{firing:,}", "firing now" if firing else "all clear", tone),
        (
            "dataset",
            "Dataset size",
            compact(s.dataset_size),
            f"{s.dataset_size:,} examples in {len(s.sizes):,} domains",
            "",
        ),
    ]
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi {tone}" data-kpi="{key}"><div class="k">{esc(label)}</div>'
            f'<div class="v">{esc(value)}</div><div class="s">{esc(sub)}</div></div>'
            for key, label, value, sub, tone in tiles
        )
        + "</div>"
    )


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "".join(f'<span class="chip">{esc(k)}={esc(v)}</span>' for k, v in labels.items())


def _severity(sev: str) -> str:
    css = sev if sev in SEVERITY_ORDER else "info"
    return f'<span class="pill sev-{esc(css)}">{esc(sev)}</span>'


def alerts_table(alerts: Sequence[StoredAlert], now: datetime, *, active: bool) -> str:
    """Alerts as a table, most severe first (active) or newest first (recent)."""
    if not alerts:
        return _empty("No alert is firing." if active else "No alert fired yet.")
    rows = (
        sorted(alerts, key=lambda a: (SEVERITY_ORDER.get(a.severity, 3), _utc(a.started_at)))
        if active
        else list(alerts)
    )
    head = "<th>severity</th><th>alert</th><th>value</th><th>since</th>"
    if not active:
        head = "<th>severity</th><th>alert</th><th>status</th><th>started</th><th>ended</th>"
    body = []
    for a in rows:
        alert = (
            f'<div class="rule">{esc(a.rule)}</div><div class="summary">{esc(a.summary)}</div>'
            + (f'<div class="chips">{_labels(a.labels)}</div>' if a.labels else "")
        )
        started = f'<span title="{esc(stamp(a.started_at))}">{esc(ago(a.started_at, now))}</span>'
        if active:
            cells = f"<td>{alert}</td><td class='num'>{a.value:.4g}</td><td>{started}</td>"
        else:
            ended = (
                f'<span title="{esc(stamp(a.ended_at))}">{esc(ago(a.ended_at, now))}</span>'
                if a.ended_at
                else "—"
            )
            status = f'<span class="pill st-{esc(a.status)}">{esc(a.status)}</span>'
            cells = f"<td>{alert}</td><td>{status}</td><td>{started}</td><td>{ended}</td>"
        body.append(
            f'<tr class="alert sev-{esc(a.severity)}"><td>{_severity(a.severity)}</td>{cells}</tr>'
        )
    kind = "active" if active else "recent"
    return (
        f'<div class="scroll"><table class="tbl" data-table="{kind}-alerts"><thead><tr>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def runs_table(runs: Sequence[ValidationRun], now: datetime) -> str:
    """The latest expectation-suite runs."""
    if not runs:
        return _empty("No validation run recorded yet.")
    body = "".join(
        f"<tr><td>{esc(r.suite)}</td>"
        f'<td><span title="{esc(stamp(r.window_end))}">{esc(ago(r.window_end, now))}</span></td>'
        f"<td class='num'>{r.rows:,}</td><td class='num'>{r.evaluated:,}</td>"
        f"<td class='num'>{r.failed:,}</td>"
        f'<td><span class="pill {"st-pass" if r.success else "st-fail"}">'
        f"{'passed' if r.success else 'failed'}</span></td></tr>"
        for r in runs
    )
    return (
        '<div class="scroll"><table class="tbl" data-table="runs"><thead><tr><th>suite</th>'
        "<th>window end</th><th>rows</th><th>expectations</th><th>failed</th><th>result</th>"
        f"</tr></thead><tbody>{body}</tbody></table></div>"
    )


MAX_HIST_DOMAINS = 16
"""Domains drawn in the score histograms (the largest; a note counts the rest)."""


def _histograms(s: Snapshot) -> str:
    """Small multiples: one row per domain, one histogram per score."""
    names = [n for n in SCORE_ORDER if s.score_hist.get(n)] + sorted(
        n for n in s.score_hist if n not in SCORE_ORDER and s.score_hist[n] and n in SCORE_EDGES
    )
    if not names:
        body = _empty("No scored examples in this period yet.")
        return _card("Score histograms per domain", body, span=12, name="scores")
    legend = _legend(("c-curated", "curated"), ("c-rejected", "rejected"))
    if any("seen" in per for d in s.score_hist.values() for per in d.values()):
        legend = _legend(("c-seen", "seen by the monitor (curated and rejected)"))
    # A domain's size is its largest count over the scores (not every example has every score).
    sizes: dict[str, int] = {}
    for name in names:
        for domain, hists in s.score_hist[name].items():
            sizes[domain] = max(sizes.get(domain, 0), _hist_total(hists))
    domains = sorted(sizes, key=lambda d: (-sizes[d], d))
    head = '<div class="hcell"></div>' + "".join(
        f'<div class="hcell"><b>{esc(n)}</b><span>{esc(SCORE_HELP.get(n, ""))}</span></div>'
        for n in names
    )
    rows = []
    for domain in domains[:MAX_HIST_DOMAINS]:
        first = next(s.score_hist[n][domain] for n in names if domain in s.score_hist[n])
        total = _hist_total(first)
        curated = sum(first.get("curated", []))
        share = f"{pct(curated / total)} curated" if "curated" in first and total else ""
        cells = [
            f'<div class="dcell"><b title="{esc(domain)}">{esc(domain)}</b>'
            f"<span>{sizes[domain]:,} scored</span><span>{esc(share)}</span></div>"
        ]
        for name in names:
            found = s.score_hist[name].get(domain)
            cells.append(
                f'<figure class="mini" data-score="{esc(name)}">'
                + (
                    histogram_chart(found, SCORE_EDGES[name], name=f"hist-{name}-{domain}")
                    if found
                    else _empty("not scored")
                )
                + "</figure>"
            )
        rows.append(f'<div class="hrow" data-domain="{esc(domain)}">{"".join(cells)}</div>')
    more = len(domains) - MAX_HIST_DOMAINS
    note = f'<p class="note">and {more:,} smaller domains not drawn</p>' if more > 0 else ""
    style = f' style="--scores:{len(names)}"'
    table = f'<div class="hists"{style}><div class="hrow head">{head}</div>{"".join(rows)}</div>'
    return _card("Score histograms per domain", legend + table + note, span=12, name="scores")


def _hist_total(hists: Mapping[str, Sequence[int]]) -> int:
    return sum(sum(h) for h in hists.values())


def _live_windows(s: Snapshot) -> str:
    if not s.live:
        return ""
    windows = s.windows[-60:]
    if not windows:
        body = _empty("Waiting for the monitor's first window to close.")
    else:
        last = windows[-1]
        closed = ago(last.start + timedelta(seconds=last.seconds), s.generated_at)
        every = f"of {s.window_s:g} s " if s.window_s else ""
        rate = last.accept_rate
        accepted = "" if rate is None else f", <b>{pct(rate)}</b> accepted"
        body = (
            f'<p class="note" data-windows="{len(s.windows)}">{len(s.windows):,} windows '
            f"{esc(every)}· last closed {esc(closed)}"
            f": <b>{last.records:,}</b> records{accepted}</p>"
            + accept_rate_chart(windows, name="windows-accept-rate", width=380, height=150)
            + volume_chart(windows, name="windows-volume", width=380, height=120)
        )
    return _card(
        "Live monitor windows",
        body,
        span=4,
        name="windows",
        sub="The running monitor's own windows (in memory).",
    )


def render_body(s: Snapshot) -> str:
    """The dashboard's content (what a live refresh replaces)."""
    now = s.generated_at
    banners = "".join(f'<div class="banner" role="alert">{esc(e)}</div>' for e in s.errors)
    period = f"since {stamp(s.since)}" if s.since else "all time"
    context = (
        f'<div class="context" data-generated="{esc(_utc(now).isoformat())}">'
        f"<span>Records {esc(period)}</span><span>·</span>"
        f"<span>buckets of {esc(_duration(s.bucket_s))}</span><span>·</span>"
        f"<span>generated {esc(stamp(now))}</span>"
        f"<span>·</span><span>from {esc(', '.join(s.sources) or 'nothing')}</span></div>"
    )
    legend = _legend(
        ("c-curated", "curated"), ("c-rejected", "rejected"), ("c-dlq", "dead-lettered")
    )
    timeline = _card(
        "Accept rate over time",
        accept_rate_chart(s.timeline),
        span=8,
        name="accept-rate",
        sub="Curated share of the examples decided in each bucket.",
    )
    active = _card(
        f"Active alerts ({len(s.active_alerts)})",
        alerts_table(s.active_alerts, now, active=True),
        span=4,
        name="active-alerts",
        sub="As the running monitor's rules see them now."
        if s.live
        else "Alerts the store lists as firing.",
    )
    volume = _card(
        "Records per bucket",
        legend + volume_chart(s.timeline),
        span=8,
        name="volume",
    )
    kinds = _legend(*((f"k-{k}", k) for k in KIND_ORDER if any(k in v for v in s.sizes.values())))
    sizes = _card(
        "Dataset size per domain",
        (kinds if s.sizes else "") + sizes_chart(s.sizes),
        span=4,
        name="sizes",
        sub="Curated examples stored, all time, by kind.",
    )
    # Live, the monitor's windows take the place beside the volume chart and the sizes move down.
    reasons_span, reasons_w = (4, 380) if s.live else (6, 580)
    rejects = _card(
        "Reject reasons",
        hbar_chart(
            list(s.reject_reasons.items()),
            name="reject-reasons",
            css="c-rejected",
            empty="No example rejected in this period.",
            width=reasons_w,
        ),
        span=reasons_span,
        name="reject-reasons",
        sub="An example rejected for two reasons counts for each.",
    )
    dlq = _card(
        "Dead-letter reasons",
        hbar_chart(
            list(s.dlq_reasons.items()),
            name="dlq-reasons",
            css="c-dlq",
            empty="No dead letters in this period.",
            width=reasons_w,
        ),
        span=reasons_span,
        name="dlq-reasons",
    )
    recent = _card(
        "Recent alerts",
        alerts_table(s.recent_alerts, now, active=False),
        span=6,
        name="recent-alerts",
    )
    runs = _card("Validation runs", runs_table(s.runs, now), span=6, name="runs")
    return (
        banners
        + context
        + _kpis(s)
        + '<div class="grid">'
        + timeline
        + active
        + volume
        + (_live_windows(s) + sizes if s.live else sizes)
        + rejects
        + dlq
        + _histograms(s)
        + recent
        + runs
        + "</div>"
    )


def _duration(seconds: float) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size:.0f} {unit}"
    return f"{seconds:g} s"


CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"
)

# Polls the fragment and swaps it in; failures keep the last good body and say so.
_SCRIPT = """(function(){var ms=%d,main=document.getElementById('dash'),
st=document.getElementById('status');function tick(){fetch('%s',{cache:'no-store'})
.then(function(r){if(!r.ok){throw new Error('HTTP '+r.status);}return r.text();})
.then(function(t){main.innerHTML=t;st.className='status live';
st.textContent='Live \\u00b7 updated '+new Date().toLocaleTimeString();})
.catch(function(e){st.className='status stale';st.textContent='Live \\u00b7 update failed ('+
e.message+'), retrying';}).then(function(){setTimeout(tick,ms);});}setTimeout(tick,ms);})();"""


def render_page(snapshot: Snapshot, *, refresh_s: float | None = None) -> str:
    """The whole page; with ``refresh_s`` it refreshes its body from ``/dashboard/fragment``."""
    if refresh_s:
        status = (
            f'<div id="status" class="status live">Live · refreshes every {refresh_s:g} s</div>'
        )
        script = "<script>" + _SCRIPT % (round(refresh_s * 1000), FRAGMENT_PATH) + "</script>"
    else:
        status = (
            f'<div id="status" class="status static">Static report · '
            f"{esc(stamp(snapshot.generated_at))}</div>"
        )
        script = ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<link rel="icon" href="data:,">'
        f"<title>Winnow · data quality</title><style>{CSS}</style></head><body>"
        '<header class="top"><div class="brand"><svg viewBox="0 0 24 24" class="logo" '
        'aria-hidden="true"><path d="M4 5h16l-6 7v6l-4 2v-8z"/></svg>'
        "<span>Winnow</span><span class='product'>data quality</span></div>"
        f"{status}</header>"
        f'<main id="dash">{render_body(snapshot)}</main>'
        f"{script}</body></html>"
    )


CSS = """
:root{--bg:#f4f6fb;--card:#fff;--ink:#0f172a;--muted:#64748b;--line:#e5e9f2;--grid:#eef1f7;
--accent:#6366f1;--curated:#10b981;--rejected:#f59e0b;--dlq:#ef4444;--seen:#8b93a7;
--sft:#6366f1;--preference:#06b6d4;--negative:#f43f5e;--other:#94a3b8;
--critical:#dc2626;--warning:#d97706;--info:#2563eb;--shadow:0 1px 2px rgba(15,23,42,.06),
0 4px 16px rgba(15,23,42,.05)}
@media (prefers-color-scheme:dark){:root{--bg:#0b1020;--card:#131a2e;--ink:#e2e8f0;
--muted:#94a3b8;--line:#1f2a44;--grid:#1b2540;--shadow:none}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
.top{display:flex;align-items:center;justify-content:space-between;padding:14px 28px;
background:var(--card);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:2}
.brand{display:flex;align-items:center;gap:10px;font-weight:700;font-size:17px}
.brand .product{font-weight:500;color:var(--muted)}
.logo{width:22px;height:22px;fill:var(--accent)}
.status{font-size:12.5px;color:var(--muted);display:flex;align-items:center;gap:8px}
.status.live::before{content:"";width:8px;height:8px;border-radius:50%;background:var(--curated);
box-shadow:0 0 0 3px rgba(16,185,129,.2)}
.status.stale::before{content:"";width:8px;height:8px;border-radius:50%;background:var(--warning)}
main{max-width:1360px;margin:0 auto;padding:18px 28px 40px}
.banner{background:#fef2f2;color:#991b1b;border:1px solid #fecaca;border-radius:10px;
padding:10px 14px;margin-bottom:14px;font-weight:500}
.context{display:flex;flex-wrap:wrap;gap:6px;color:var(--muted);font-size:12.5px;margin:2px 0 14px}
.kpis{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:14px;margin-bottom:16px}
.kpi{background:var(--card);border-radius:12px;padding:14px 16px;box-shadow:var(--shadow);
border:1px solid var(--line);border-top:3px solid var(--line)}
.kpi .k{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);
font-weight:600}
.kpi .v{font-size:28px;font-weight:700;letter-spacing:-.02em;margin:2px 0;
font-variant-numeric:tabular-nums}
.kpi .s{font-size:12px;color:var(--muted)}
.kpi[data-kpi=curated]{border-top-color:var(--curated)}
.kpi[data-kpi=rejected]{border-top-color:var(--rejected)}
.kpi[data-kpi=dlq]{border-top-color:var(--dlq)}
.kpi[data-kpi=accept-rate]{border-top-color:var(--accent)}
.kpi.bad{border-top-color:var(--critical)}.kpi.bad .v{color:var(--critical)}
.kpi.warn{border-top-color:var(--warning)}.kpi.warn .v{color:var(--warning)}
.kpi.info{border-top-color:var(--info)}.kpi[data-kpi=alerts].good{border-top-color:var(--curated)}
.grid{display:grid;grid-template-columns:repeat(12,minmax(0,1fr));gap:16px}
.card{background:var(--card);border-radius:14px;padding:16px 18px;box-shadow:var(--shadow);
border:1px solid var(--line);min-width:0}
.card header{margin-bottom:10px}
.card h2{font-size:15px;margin:0;font-weight:650}
.card .sub{margin:2px 0 0;color:var(--muted);font-size:12.5px}
.span-4{grid-column:span 4}.span-6{grid-column:span 6}
.span-8{grid-column:span 8}.span-12{grid-column:span 12}
@media (max-width:1100px){.kpis{grid-template-columns:repeat(3,minmax(0,1fr))}
.span-4,.span-6,.span-8{grid-column:span 12}}
.scroll{overflow-x:auto}
.chart{width:100%;height:auto;display:block;overflow:visible}
.chart text{font-size:11px;fill:var(--muted);font-variant-numeric:tabular-nums}
.chart .ylab{text-anchor:end}.chart .xlab{text-anchor:middle}
.chart .hlab{fill:var(--ink);font-size:12px}.chart .hval{font-size:11.5px;font-weight:600}
.chart .grid{stroke:var(--grid);stroke-width:1}.chart .axis{stroke:var(--line)}
.chart .track{fill:var(--grid)}
.chart .line{fill:none;stroke:var(--accent);stroke-width:2.2;stroke-linejoin:round}
.chart .area{fill:var(--accent);opacity:.10}
.chart .pt{fill:var(--card);stroke:var(--accent);stroke-width:1.8}
.chart .bar:hover,.chart .pt:hover{opacity:.8}
.c-curated{fill:var(--curated);background:var(--curated)}
.c-rejected{fill:var(--rejected);background:var(--rejected)}
.c-dlq{fill:var(--dlq);background:var(--dlq)}.c-seen{fill:var(--seen);background:var(--seen)}
.k-sft{fill:var(--sft);background:var(--sft)}
.k-preference{fill:var(--preference);background:var(--preference)}
.k-negative{fill:var(--negative);background:var(--negative)}
.k-other{fill:var(--other);background:var(--other)}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;color:var(--muted);margin:-2px 0 8px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{width:10px;height:10px;border-radius:3px;display:inline-block}
.empty{padding:26px 12px;text-align:center;color:var(--muted);background:var(--bg);
border-radius:10px;border:1px dashed var(--line);font-size:13px}
.note{margin:0 0 8px;font-size:12.5px;color:var(--muted)}.note b{color:var(--ink)}
.tbl{width:100%;border-collapse:collapse;font-size:13px}
.tbl th{text-align:left;font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;
color:var(--muted);font-weight:600;padding:6px 8px;border-bottom:1px solid var(--line)}
.tbl td{padding:8px;border-bottom:1px solid var(--line);vertical-align:top}
.tbl tr:last-child td{border-bottom:0}.tbl .num{text-align:right;font-variant-numeric:tabular-nums}
.tbl .rule{font-weight:600}.tbl .summary{color:var(--muted);font-size:12.5px}
.alert.sev-critical td:first-child{box-shadow:inset 3px 0 0 var(--critical)}
.alert.sev-warning td:first-child{box-shadow:inset 3px 0 0 var(--warning)}
.alert.sev-info td:first-child{box-shadow:inset 3px 0 0 var(--info)}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:11.5px;font-weight:600;
border:1px solid transparent;white-space:nowrap}
.sev-critical.pill{background:#fee2e2;color:#991b1b;border-color:#fecaca}
.sev-warning.pill{background:#fef3c7;color:#92400e;border-color:#fde68a}
.sev-info.pill{background:#dbeafe;color:#1e40af;border-color:#bfdbfe}
.st-firing{background:#fee2e2;color:#991b1b}.st-resolved{background:#dcfce7;color:#166534}
.st-pass{background:#dcfce7;color:#166534}.st-fail{background:#fee2e2;color:#991b1b}
.chips{margin-top:3px;display:flex;flex-wrap:wrap;gap:4px}
.chip{font-size:11px;background:var(--grid);border-radius:6px;padding:0 6px;color:var(--muted);
font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.muted{color:var(--muted);font-weight:400}
.hists{display:grid;gap:0}
.hrow{display:grid;grid-template-columns:150px repeat(var(--scores),minmax(0,1fr));gap:14px;
align-items:center;padding:8px 0;border-top:1px solid var(--line)}
.hrow.head{border-top:0;padding-top:0;align-items:end}
.hcell b{display:block;font-size:13px}.hcell span{font-size:11.5px;color:var(--muted)}
.dcell{display:flex;flex-direction:column;font-size:12px;color:var(--muted);min-width:0}
.dcell b{color:var(--ink);font-size:13.5px;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap}
.mini{margin:0;min-width:0}.mini .empty{padding:30px 8px}
.tbl td span[title]{white-space:nowrap}
"""
