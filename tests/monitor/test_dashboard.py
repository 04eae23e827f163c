"""The dashboard: store snapshots (SQLite and PostgreSQL), the renderer and `winnow report`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.monitor.dashboard_seed import DOMAINS, dead_letter, seed, seed_alerts
from tests.monitor.helpers import window

from winnow.monitor.dashboard import compact, nice_ceiling, render_body, render_page
from winnow.monitor.rules import AlertTransition, Severity
from winnow.monitor.snapshot import (
    Bucket,
    LiveSnapshots,
    Snapshot,
    ValidationRun,
    add_live,
    nice_bucket,
    parse_duration,
    parse_since,
    store_snapshot,
)
from winnow.monitor.store import MonitorStore, StoredAlert
from winnow.reasons import DeadLetterReason
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
XSS = "<script>window.pwned=1</script>"


# --- a small HTML tree, to assert on elements rather than on substrings ---------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Text of the node and its descendants, whitespace collapsed."""
        parts = [*self.texts, *(c.text() for c in self.children)]
        return " ".join(" ".join(parts).split())

    def all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        """Descendants matching a tag, a class token and attribute values (``data_x`` = data-x)."""
        out = []
        for child in self.children:
            classes = child.attrs.get("class", "").split()
            if (
                (tag is None or child.tag == tag)
                and (cls is None or cls in classes)
                and all(child.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
            ):
                out.append(child)
            out += child.all(tag, cls, **attrs)
        return out

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        [found] = self.all(tag, cls, **attrs)
        return found


_VOID = {"meta", "link", "br", "img", "input", "hr"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return
        raise AssertionError(f"</{tag}> closes nothing")

    def handle_data(self, data: str) -> None:
        self.stack[-1].texts.append(data)


def parse(page: str) -> Node:
    """The page as a tree; unclosed elements fail the parse (a broken page)."""
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], [n.tag for n in builder.stack]
    return builder.root


def kpi(doc: Node, key: str) -> str:
    """The value shown on one KPI tile."""
    return doc.one(data_kpi=key).one(cls="v").text()


# --- the renderer ----------------------------------------------------------------------------


def _alert(rule: str, severity: str, **kw: object) -> StoredAlert:
    doc: dict[str, object] = {
        "rule": rule,
        "severity": severity,
        "status": "firing",
        "labels": {},
        "value": 0.5,
        "summary": f"{rule} summary",
        "started_at": NOW - timedelta(minutes=5),
        "ended_at": None,
        **kw,
    }
    return StoredAlert(**doc)  # type: ignore[arg-type]


def full_snapshot() -> Snapshot:
    """A snapshot with something in every section."""
    start = NOW - timedelta(minutes=5)
    timeline = [
        Bucket(start, 60, curated=8, rejected=2, dlq=1),
        Bucket(start + timedelta(minutes=1), 60),  # a gap: no point, no bar
        Bucket(start + timedelta(minutes=2), 60, curated=3, rejected=1),
        Bucket(start + timedelta(minutes=3), 60, dlq=4),  # records but no example: no point
    ]
    return Snapshot(
        generated_at=NOW,
        since=NOW - timedelta(hours=1),
        bucket_s=60,
        timeline=timeline,
        sizes={"billing": {"sft": 40, "preference": 5}, "shipping": {"sft": 12}},
        reject_reasons={"too_short": 2, "low_reward": 1},
        dlq_reasons={"invalid_json": 4, "schema_violation": 1},
        score_hist={
            "reward": {
                "billing": {"curated": [0] * 6 + [3, 4, 2, 1], "rejected": [1, 1] + [0] * 8},
                "shipping": {"curated": [0] * 9 + [2]},
            }
        },
        active_alerts=[_alert("dlq_spike", "critical"), _alert("length_drift", "info")],
        recent_alerts=[
            _alert("dlq_spike", "critical"),
            _alert(
                "score_drift",
                "warning",
                status="resolved",
                labels={"metric": "score:reward"},
                ended_at=NOW - timedelta(minutes=1),
            ),
        ],
        runs=[ValidationRun("curated_examples", NOW, 120, 16, 3, False)],
        sources=["store"],
    )


def test_static_page_shows_the_numbers() -> None:
    """Totals, charts (points, bars, histograms), alerts and runs carry the snapshot's data."""
    page = render_page(full_snapshot())
    doc = parse(page)
    assert "<script" not in page
    assert doc.one(id="status").text().startswith("Static report")
    assert (kpi(doc, "curated"), kpi(doc, "rejected"), kpi(doc, "dlq")) == ("11", "3", "5")
    assert kpi(doc, "accept-rate") == "78.6%"  # 11 / 14
    assert (kpi(doc, "alerts"), kpi(doc, "dataset")) == ("2", "57")
    accept = doc.one("svg", data_chart="accept-rate")
    assert len(accept.all("circle", cls="pt")) == 2  # the empty and the DLQ-only buckets: gaps
    assert len(accept.all("polyline", cls="line")) == 2  # the gap splits the line
    volume = doc.one("svg", data_chart="volume")
    assert len(volume.all("rect", cls="bar")) == 6  # 3 outcomes + 2 + 1: zeros are not drawn
    assert len(volume.all("rect", cls="c-dlq")) == 2
    sizes = doc.one(data_section="sizes")
    assert [t.text() for t in sizes.all("text", cls="hlab")] == ["billing", "shipping"]
    assert [t.text() for t in sizes.all("text", cls="hval")] == ["45", "12"]
    rejects = doc.one("svg", data_chart="reject-reasons")
    assert [t.text() for t in rejects.all("text", cls="hlab")] == ["too_short", "low_reward"]
    dlq = doc.one("svg", data_chart="dlq-reasons")
    assert [t.text() for t in dlq.all("text", cls="hval")] == ["4", "1"]
    rows = doc.one(data_section="scores").all(cls="hrow")
    assert [r.attrs.get("data-domain") for r in rows[1:]] == ["billing", "shipping"]
    billing = doc.one("svg", data_chart="hist-reward-billing")
    assert len(billing.all("rect", cls="c-curated")) == 4
    assert len(billing.all("rect", cls="c-rejected")) == 2
    assert "12 scored 83% curated" in rows[1].text()  # 10 of 12
    active = doc.one("table", data_table="active-alerts").all("tr", cls="alert")
    assert [(r.attrs["class"], r.one(cls="rule").text()) for r in active] == [
        ("alert sev-critical", "dlq_spike"),
        ("alert sev-info", "length_drift"),
    ]
    recent = doc.one("table", data_table="recent-alerts")
    assert "metric=score:reward" in recent.text() and "resolved" in recent.text()
    runs = doc.one("table", data_table="runs").all("tr")[1]
    assert runs.text() == "curated_examples 0s ago 120 16 3 failed"


def test_live_page_polls_the_fragment() -> None:
    """The live page has one tiny inline script polling the fragment at the set interval; the
    fragment is the page's body."""
    snap = full_snapshot()
    page = render_page(snap, refresh_s=2.5)
    assert page.count("<script") == 1
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    assert "var ms=2500" in script and "fetch('dashboard/fragment'" in script
    assert len(script) < 1000
    assert render_body(snap) in page
    assert "Live · refreshes every 2.5 s" in parse(page).one(id="status").text()


def test_user_strings_are_escaped() -> None:
    """Domain, reason, label, summary and error text from the data never become markup."""
    snap = full_snapshot()
    snap.sizes[XSS] = {"sft": 3}
    snap.reject_reasons['"><img src=x onerror=alert(1)>'] = 2
    snap.score_hist["reward"][XSS] = {"curated": [1] * 10}
    snap.active_alerts.append(
        _alert("x", "<b>critical</b>", labels={"tenant": XSS}, summary="<i>boom</i> & more")
    )
    snap.errors.append(f"The store could not be read: {XSS}")
    page = render_page(snap, refresh_s=5)
    assert page.count("<script") == 1  # only the page's own
    assert "<img" not in page and "<i>" not in page and "<b>critical" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    doc = parse(page)
    assert XSS in doc.one(data_section="sizes").text()
    assert any(r.attrs.get("data-domain") == XSS for r in doc.all(cls="hrow"))
    assert "<i>boom</i> & more" in doc.one(data_table="active-alerts").text()
    assert XSS in doc.one(cls="banner").text()


def test_empty_snapshot_renders_empty_states() -> None:
    """No data at all: zero tiles, an unknown accept rate and an empty state in every chart."""
    snap = Snapshot(generated_at=NOW, since=None)
    for page in (render_page(snap), render_page(add_live(snap, [], []), refresh_s=5)):
        doc = parse(page)
        assert (kpi(doc, "curated"), kpi(doc, "accept-rate"), kpi(doc, "alerts")) == (
            "0",
            "—",
            "0",
        )
        assert doc.all("svg", cls="chart") == []
        empties = [e.text() for e in doc.all(cls="empty")]
        assert "No examples curated or rejected in this period yet." in empties
        assert "No curated examples stored yet." in empties
        assert "No alert is firing." in empties
        assert "No scored examples in this period yet." in empties
    assert "Waiting for the monitor's first window to close." in empties


def test_live_windows_stand_in_for_a_store_that_failed(tmp_path: Path) -> None:
    """An unmigrated store gives a banner, not an exception; the monitor's windows still draw
    the window chart, the reasons and the score histograms."""
    store = MonitorStore(f"sqlite:///{tmp_path / 'empty.db'}")
    snap = store_snapshot(store, since=None, now=NOW)
    store.close()
    assert len(snap.errors) == 1 and "OperationalError" in snap.errors[0]
    history = [
        window(good=6, rejected=2, dlq=1, start=NOW - timedelta(seconds=60)).as_dict(),
        window(good=3, rejected=3, reason="too_short", start=NOW - timedelta(seconds=30)).as_dict(),
    ]
    add_live(snap, history, [], window_s=30)
    assert (snap.curated, snap.rejected, snap.dlq) == (9, 5, 1)
    assert snap.reject_reasons == {"empty_answer": 2, "too_short": 3}
    assert sum(snap.score_hist["reward"]["billing"]["seen"]) == 14
    doc = parse(render_page(snap, refresh_s=5))
    assert doc.one(cls="banner").attrs["role"] == "alert"
    assert len(doc.one("svg", data_chart="windows-accept-rate").all("circle", cls="pt")) == 2
    assert doc.one(data_section="windows").one(cls="note").attrs["data-windows"] == "2"
    assert kpi(doc, "curated") == "9"


async def test_live_snapshots_survive_a_broken_store_and_are_cached(tmp_path: Path) -> None:
    """The monitor's snapshot source: a store without tables gives a banner and the windows;
    a second request within the cache age gets the same snapshot, a later one a new one."""
    history = [window(good=4, rejected=1, start=NOW).as_dict()]
    store = MonitorStore(f"sqlite:///{tmp_path / 'none.db'}")

    def source(max_age_s: float) -> LiveSnapshots:
        return LiveSnapshots(
            store,
            history=lambda: history,
            active=lambda: [],
            lookback_s=3600,
            window_s=60,
            max_age_s=max_age_s,
        )

    cached = source(30)
    first = await cached.get()
    assert "OperationalError" in first.errors[0] and (first.curated, first.rejected) == (4, 1)
    history.append(window(good=2, start=NOW + timedelta(minutes=1)).as_dict())
    assert await cached.get() is first
    second = await source(0).get()
    assert second is not first and second.curated == 6 and len(second.windows) == 2
    assert 'role="alert"' in render_page(second, refresh_s=5)
    store.close()


def test_active_alerts_of_the_engine_replace_the_stores() -> None:
    """Live, the engine's firing alerts are shown (the store may lag a window)."""
    snap = full_snapshot()
    firing = AlertTransition(
        rule="pii_spike",
        severity=Severity.CRITICAL,
        status="firing",
        labels={},
        value=0.4,
        threshold=0.3,
        started_at=NOW,
        ended_at=None,
        summary="40% of examples carried PII",
    )
    add_live(snap, [], [firing], window_s=60)
    assert [a.rule for a in snap.active_alerts] == ["pii_spike"]
    assert [a.rule for a in snap.recent_alerts] == ["dlq_spike", "score_drift"]


def test_helpers() -> None:
    """Bucket lengths, durations, times and number formats."""
    assert [nice_bucket(s) for s in (0, 30, 48, 49, 3600, 86400)] == [1, 1, 1, 2, 120, 1800]
    assert [parse_duration(v) for v in ("90s", "30m", "24h", "7d", "12", "x", "-5m")] == [
        90,
        1800,
        86400,
        604800,
        12,
        None,
        None,
    ]
    assert parse_since("all") is None
    assert parse_since("2h", NOW) == NOW - timedelta(hours=2)
    assert parse_since("2026-12-01T10:00:00") == datetime(2026, 12, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("yesterday")
    assert [compact(n) for n in (999, 1000, 1250, 2_500_000)] == ["999", "1k", "1.2k", "2.5M"]
    assert [nice_ceiling(v) for v in (0, 3, 11, 180, 501)] == [1, 5, 20, 200, 1000]


# --- snapshots from the store, on both backends ------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A migrated store on each backend, with no examples, rejections, dead letters or alerts."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    store = ExampleStore(url)
    with store.engine.begin() as conn:
        for table in ("examples", "rejections", "dead_letters", "alerts", "validation_runs"):
            conn.execute(text(f"DELETE FROM {table}"))  # fixed table names
    store.close()
    return url


def test_store_snapshot_counts_what_was_written(db_url: str) -> None:
    """Sizes, totals, reasons, per-domain histograms, alerts and runs match the seeded rows."""
    seeded = seed(db_url, n=48, dlq=5)
    seed_alerts(db_url)
    store = MonitorStore(db_url)
    snap = store_snapshot(store, since=datetime.now(UTC) - timedelta(hours=1))
    store.close()
    assert snap.errors == []
    assert snap.sizes == {
        d: {k: n for (dd, k), n in seeded.kinds.items() if dd == d} for d in DOMAINS
    }
    assert (snap.curated, snap.rejected, snap.dlq) == (36, 12, 5)
    assert snap.reject_reasons == dict(seeded.reject_reasons)
    assert snap.dlq_reasons == {"schema_violation": 3, "invalid_json": 2}
    reward = snap.score_hist["reward"]
    for d in DOMAINS:
        assert sum(reward[d]["curated"]) == seeded.curated[d]
        assert sum(reward[d]["rejected"]) == seeded.rejected[d]
        assert sum(reward[d]["curated"][:5]) == 0  # seeded curated rewards are >= 0.55
        assert sum(reward[d]["rejected"][4:]) == 0  # and rejected ones < 0.35
    assert sum(sum(h["curated"]) for h in snap.score_hist["relevance"].values()) == 36
    assert [a.rule for a in snap.active_alerts] == ["dlq_spike"]
    assert [(a.rule, a.status) for a in snap.recent_alerts] == [
        ("dlq_spike", "firing"),
        ("score_drift", "resolved"),
    ]
    assert [(r.suite, r.failed, r.success) for r in snap.runs] == [("curated_examples", 1, False)]
    later = MonitorStore(db_url)
    future = store_snapshot(later, since=datetime.now(UTC) + timedelta(hours=1))
    later.close()
    assert future.timeline == [] and future.reject_reasons == {} and future.score_hist == {}
    assert future.dataset_size == 36  # sizes are all time


def test_timeline_buckets_by_time(db_url: str) -> None:
    """Rows land in the bucket of their timestamp; empty buckets between are kept."""
    base = datetime.fromtimestamp(
        (int(datetime.now(UTC).timestamp()) // 60 - 3) * 60, UTC
    )  # three whole minutes ago
    letters = [
        dead_letter(0, DeadLetterReason.INVALID_JSON).model_copy(
            update={"failed_at": base + timedelta(seconds=1)}
        ),
        dead_letter(1, DeadLetterReason.INVALID_JSON).model_copy(
            update={"failed_at": base + timedelta(seconds=59.5)}
        ),
        dead_letter(2, DeadLetterReason.INVALID_JSON).model_copy(
            update={"failed_at": base + timedelta(seconds=130)}
        ),
    ]
    examples = ExampleStore(db_url)
    examples.record_dead_letters(letters)
    examples.close()
    store = MonitorStore(db_url)
    snap = store_snapshot(store, since=base - timedelta(hours=1), bucket_s=60)
    store.close()
    assert snap.bucket_s == 60
    assert [(b.start, b.dlq) for b in snap.timeline] == [
        (base, 2),
        (base + timedelta(minutes=1), 0),
        (base + timedelta(minutes=2), 1),
    ]


def test_explicit_bucket_is_widened_past_the_limit(db_url: str) -> None:
    """A one-second bucket over days would be a huge page: it is widened to <= 1000 buckets."""
    now = datetime.now(UTC)
    letters = [
        dead_letter(i, DeadLetterReason.INVALID_JSON).model_copy(
            update={"failed_at": now - timedelta(days=2 * i)}
        )
        for i in range(2)
    ]
    examples = ExampleStore(db_url)
    examples.record_dead_letters(letters)
    examples.close()
    store = MonitorStore(db_url)
    snap = store_snapshot(store, since=None, bucket_s=1)
    store.close()
    assert snap.bucket_s == 300 and len(snap.timeline) <= 1000
    assert sum(b.dlq for b in snap.timeline) == 2


# --- winnow report ------------------------------------------------------------------------------


def _winnow(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WINNOW_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "winnow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.integration
def test_winnow_report_renders_the_store(postgres_url: str, tmp_path: Path) -> None:
    """`winnow report` writes one static page with the seeded numbers and prints its path."""
    upgrade(postgres_url)
    store = ExampleStore(postgres_url)
    with store.engine.begin() as conn:
        for table in ("examples", "rejections", "dead_letters", "alerts", "validation_runs"):
            conn.execute(text(f"DELETE FROM {table}"))  # fixed table names
    store.close()
    seeded = seed(postgres_url, n=30, dlq=4)
    seed_alerts(postgres_url, summary=XSS)
    out = tmp_path / "reports" / "report.html"
    done = _winnow("report", "--out", str(out), "--since", "1h", url=postgres_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    page = out.read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    doc = parse(page)
    assert kpi(doc, "curated") == str(seeded.total_curated)
    assert kpi(doc, "rejected") == str(seeded.total_rejected)
    assert kpi(doc, "dlq") == str(seeded.total_dlq)
    assert kpi(doc, "alerts") == "1"
    assert XSS in doc.one(data_table="active-alerts").text()
    assert Counter(
        r.attrs["data-domain"] for r in doc.one(data_section="scores").all(cls="hrow")[1:]
    ) == Counter(DOMAINS)


@pytest.mark.integration
def test_winnow_report_errors_are_clear(postgres_url: str, tmp_path: Path) -> None:
    """An unwritable path and a bad --since fail with a message; nothing is written."""
    upgrade(postgres_url)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = _winnow("report", "--out", str(blocker / "report.html"), url=postgres_url)
    assert done.returncode == 1
    assert f"cannot write {blocker / 'report.html'}" in done.stderr
    bad = _winnow("report", "--since", "yesterday", url=postgres_url)
    assert bad.returncode == 2 and "neither a duration" in bad.stderr
    down = _winnow(
        "report",
        "--out",
        str(tmp_path / "r.html"),
        url="postgresql+psycopg://postgres@127.0.0.1:1/none",
    )
    assert down.returncode == 1 and "store could not be read" in down.stderr
    assert not (tmp_path / "r.html").exists()
