"""The data-quality dashboard: a ``Snapshot`` rendered as one self-contained HTML page.

Everything is inline (CSS, SVG charts from ``winnow.monitor.charts``, and for the live page a
few lines of script that re-fetch the body): clusters may be air-gapped, so the page loads
nothing from anywhere, and its Content-Security-Policy says so. The CSS and the script live as
package data (``static/dashboard.css``, ``static/dashboard.js``) and are inlined at render
time. Every string that comes from data (domains, tenants, reasons, rule labels, summaries,
errors) goes through ``esc``.

``render_page`` gives the whole page; ``render_body`` the part the live page swaps in on each
refresh (``/dashboard/fragment``), so the static report and the live page draw the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from importlib.resources import files

from winnow.monitor.charts import (
    KIND_ORDER,
    accept_rate_chart,
    as_utc,
    compact,
    empty_note,
    esc,
    hbar_chart,
    histogram_chart,
    nice_ceiling,
    pct,
    sizes_chart,
    volume_chart,
)
from winnow.monitor.snapshot_model import Snapshot, ValidationRun
from winnow.monitor.store import StoredAlert
from winnow.monitor.window import SCORE_EDGES

__all__ = [
    "CSP",
    "FRAGMENT_PATH",
    "ago",
    "alerts_table",
    "compact",
    "live_script",
    "nice_ceiling",
    "page_css",
    "render_body",
    "render_page",
    "runs_table",
    "stamp",
]

OUTCOME_LABELS = {"curated": "curated", "rejected": "rejected", "dlq": "dead-lettered"}
SCORE_ORDER = ("reward", "reward_quantile", "relevance", "domain_confidence")
SCORE_HELP = {
    "reward": "reward model: how good the answer is (0-1)",
    "reward_quantile": "reward's rank among its domain's reference rewards (flat = as usual)",
    "relevance": "answer-to-question relevance (cosine, -1 to 1)",
    "domain_confidence": "router's confidence in the domain (0-1)",
}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
FRAGMENT_PATH = "dashboard/fragment"
"""Relative to ``/dashboard``: what the live page fetches on each refresh."""


def ago(at: datetime, now: datetime) -> str:
    """How long before ``now``: 45s, 12m, 3h, 2d."""
    seconds = max(0.0, (as_utc(now) - as_utc(at)).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def stamp(at: datetime) -> str:
    """An absolute UTC time for tooltips and footers."""
    return as_utc(at).strftime("%Y-%m-%d %H:%M:%S UTC")


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
        (
            "conflicts",
            "Feedback conflicts",
            f"{s.conflicts.get('label_conflicts', 0):,}",
            f"{s.conflicts.get('unresolved', 0):,} unresolved, "
            f"{s.conflicts.get('correction_conflicts', 0):,} disagreeing corrections "
            "(latest snapshots)",
            "warn" if s.conflicts.get("unresolved") else "",
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
        return empty_note("No alert is firing." if active else "No alert fired yet.")
    rows = (
        sorted(alerts, key=lambda a: (SEVERITY_ORDER.get(a.severity, 3), as_utc(a.started_at)))
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
        return empty_note("No validation run recorded yet.")
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
        body = empty_note("No scored examples in this period yet.")
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
                    else empty_note("not scored")
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
        body = empty_note("Waiting for the monitor's first window to close.")
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
        f'<div class="context" data-generated="{esc(as_utc(now).isoformat())}">'
        f"<span>Records {esc(period)}</span><span>·</span>"
        f"<span>buckets of {esc(_duration(s.bucket_s))}</span><span>·</span>"
        f"<span>generated {esc(stamp(now))}</span>"
        f"<span>·</span><span>from {esc(', '.join(s.sources) or 'nothing')}</span></div>"
    )
    sizes = _sizes_card(s)
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
        + _timeline_cards(s)
        + (_live_windows(s) + sizes if s.live else sizes)
        + _reason_cards(s)
        + _histograms(s)
        + recent
        + runs
        + "</div>"
    )


def _timeline_cards(s: Snapshot) -> str:
    """Accept rate and active alerts side by side, then the records per bucket."""
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
        alerts_table(s.active_alerts, s.generated_at, active=True),
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
    return timeline + active + volume


def _sizes_card(s: Snapshot) -> str:
    kinds = _legend(*((f"k-{k}", k) for k in KIND_ORDER if any(k in v for v in s.sizes.values())))
    return _card(
        "Dataset size per domain",
        (kinds if s.sizes else "") + sizes_chart(s.sizes),
        span=4,
        name="sizes",
        sub="Curated examples stored, all time, by kind.",
    )


def _reason_cards(s: Snapshot) -> str:
    """Reject and dead-letter reasons as horizontal bars."""
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
    return rejects + dlq


def _duration(seconds: float) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size:.0f} {unit}"
    return f"{seconds:g} s"


CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"
)


@cache
def _static(name: str) -> str:
    """A file of ``winnow/monitor/static`` (package data), read once."""
    return (files("winnow.monitor") / "static" / name).read_text(encoding="utf-8")


def page_css() -> str:
    """The page's stylesheet, inlined into ``<style>``."""
    return "\n" + _static("dashboard.css")


def live_script(refresh_s: float) -> str:
    """The live page's script: polls the fragment every ``refresh_s`` and swaps it in.

    Failures keep the last good body and say so in the status line.
    """
    script = _static("dashboard.js").rstrip("\n")
    return script.replace("__REFRESH_MS__", str(round(refresh_s * 1000))).replace(
        "__FRAGMENT_PATH__", FRAGMENT_PATH
    )


def render_page(snapshot: Snapshot, *, refresh_s: float | None = None) -> str:
    """The whole page; with ``refresh_s`` it refreshes its body from ``/dashboard/fragment``."""
    if refresh_s:
        status = (
            f'<div id="status" class="status live">Live · refreshes every {refresh_s:g} s</div>'
        )
        script = "<script>" + live_script(refresh_s) + "</script>"
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
        f"<title>Winnow · data quality</title><style>{page_css()}</style></head><body>"
        '<header class="top"><div class="brand"><svg viewBox="0 0 24 24" class="logo" '
        'aria-hidden="true"><path d="M4 5h16l-6 7v6l-4 2v-8z"/></svg>'
        "<span>Winnow</span><span class='product'>data quality</span></div>"
        f"{status}</header>"
        f'<main id="dash">{render_body(snapshot)}</main>'
        f"{script}</body></html>"
    )
