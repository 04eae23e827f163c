"""The dashboard in a real headless browser (Debian's chromium driven by Playwright).

The monitor runs as a service on the embedded broker, reads records produced to the curated,
rejected and DLQ topics, and serves ``/dashboard`` over a seeded PostgreSQL store. The page must
load without console errors or requests elsewhere, draw its charts with the run's data, refresh
itself in place when the data changes, and the static ``winnow report`` must load just as well.
Screenshots go to ``$WINNOW_TEST_ARTIFACTS`` (default ``var/test-artifacts/``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from tests.browser import headless_chromium
from tests.monitor.dashboard_seed import make_example, seed, seed_alerts
from tests.monitor.helpers import dead_letter_doc, example_doc

from winnow.agents.supervisor import Supervisor
from winnow.kafka.produce import produce
from winnow.settings import Settings
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.topics import TopicLayout

pytestmark = pytest.mark.integration

XSS_DOMAIN = "<script>window.pwned=1</script>"
RULES = """
rules:
  - {name: dlq_spike, kind: dlq_rate, severity: critical, threshold: 0.1, for: 1,
     resolve_after: 100000, min_events: 1, summary: "{value:.0%} of records dead-lettered"}
"""
REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def artifacts_dir() -> Path:
    """Where screenshots are kept (``var/`` is git-ignored)."""
    path = Path(os.environ.get("WINNOW_TEST_ARTIFACTS") or REPO / "var" / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian chromium; skipped without it on a workstation, a failure in CI."""
    yield from headless_chromium()


class PageWatch:
    """A page with its console errors, uncaught exceptions and requests recorded."""

    def __init__(self, browser: Any, allowed_prefix: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("request", self._request)
        self.allowed = allowed_prefix

    def _console(self, msg: Any) -> None:
        if msg.type == "error":
            self.errors.append(f"console: {msg.text}")

    def _request(self, req: Any) -> None:
        if not (req.url.startswith(self.allowed) or req.url.startswith("data:")):
            self.foreign.append(req.url)

    def texts(self, selector: str) -> list[str]:
        return [t.strip() for t in self.page.locator(selector).all_text_contents()]

    def labels(self, selector: str) -> list[str]:
        """The full (untruncated) labels of chart rows."""
        rows = self.page.locator(selector)
        return [str(rows.nth(i).get_attribute("data-label")) for i in range(rows.count())]

    def kpi(self, key: str) -> str:
        return str(self.page.locator(f"[data-kpi={key}] .v").inner_text()).strip()

    def close(self) -> None:
        self.page.close()


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        doc: dict[str, Any] = json.load(resp)
        return doc


def _wait_for(url: str, ok: Any, timeout_s: float, sup: Supervisor) -> dict[str, Any]:
    """Poll a JSON page until ``ok(doc)``; the last document in the failure message."""
    deadline = time.monotonic() + timeout_s
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        sup.poll()
        try:
            doc = _get_json(url)
            if ok(doc):
                return doc
        except OSError:
            pass
        time.sleep(0.5)
    brief = {k: doc.get(k) for k in ("curated", "rejected", "dlq", "errors", "sources")}
    raise AssertionError(f"{url} did not get there in {timeout_s} s: {brief}")


def _records(layout: TopicLayout, start: int, curated: int, rejected: int, dlq: int) -> list[Any]:
    """Curated, rejected and dead-letter records, interleaved so each window sees a mix."""
    out: list[tuple[str, bytes | None, bytes]] = []
    domains = ("billing", "shipping", "account")
    for i in range(max(curated, rejected, dlq)):
        n = start + i
        if i < curated:
            doc = example_doc(n, domain=domains[i % 3], reward=0.5 + (i % 5) / 10)
            out.append((layout.curated, None, json.dumps(doc).encode()))
        if i < rejected:
            doc = example_doc(10_000 + n, answer="", reasons=["empty_answer"], reward=0.2)
            out.append((layout.rejected, None, json.dumps(doc).encode()))
        if i < dlq:
            out.append((layout.dlq, None, json.dumps(dead_letter_doc(n)).encode()))
    return out


def off_loop(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a worker thread: Playwright's sync API keeps an event loop running on this
    one, so ``asyncio.run`` (topic creation, producing) cannot be called here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


def _clean(url: str) -> None:
    upgrade(url)
    store = ExampleStore(url)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE examples, rejections, dead_letters, alerts, validation_runs"))
    store.close()


def test_dashboard_in_a_browser(browser: Any, postgres_url: str, tmp_path: Path) -> None:
    """Live page: no console errors, charts with the run's data, an in-place refresh; then the
    static report of the same store."""
    _clean(postgres_url)
    seeded = seed(postgres_url, n=45, dlq=5)
    xss = make_example(999, domain=XSS_DOMAIN, salt="xss")
    writer = ExampleStore(postgres_url)
    writer.write_decisions([xss])
    writer.close()
    seed_alerts(postgres_url)  # a stored firing alert the engine does not know: recent only
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    settings = Settings(
        database_url=postgres_url, data_dir=tmp_path, topic_partitions=1, batch_wait_s=0.1
    )
    env = {
        "WINNOW_MONITOR_WINDOW_S": "1.5",
        "WINNOW_MONITOR_DASHBOARD_REFRESH_S": "1",
        "WINNOW_MONITOR_RULES_PATH": str(rules),
        # This test is about what the page shows; its key check is tested in test_access.py.
        "WINNOW_MONITOR_DASHBOARD_OPEN": "true",
    }
    out = artifacts_dir()
    logs = tmp_path / "logs"
    sup = Supervisor(settings, services=("monitor",), log_dir=logs, extra_env=env)
    try:
        off_loop(sup.start)
        assert sup.broker is not None
        base = f"http://127.0.0.1:{sup.children[0].port}"
        sup.wait_ready(timeout_s=120)
        run = settings.model_copy(
            update={"kafka_bootstrap": sup.broker.bootstrap, "kafka_idempotence": False}
        )
        layout = TopicLayout.from_settings(run)
        first = _records(layout, 0, curated=30, rejected=10, dlq=10)
        off_loop(lambda: asyncio.run(produce(run, first)))
        _wait_for(
            f"{base}/dashboard.json",
            lambda d: sum(w["curated"] for w in d["windows"]) >= 30 and d["active_alerts"],
            60,
            sup,
        )

        watch = PageWatch(browser, base)
        page = watch.page
        page.goto(f"{base}/dashboard")
        page.wait_for_selector("svg[data-chart=accept-rate]")
        # Store numbers (the seeded rows plus the one odd domain).
        assert watch.kpi("curated") == str(seeded.total_curated + 1)
        assert watch.kpi("rejected") == str(seeded.total_rejected)
        assert watch.kpi("dlq") == str(seeded.total_dlq)
        assert watch.kpi("alerts") == "1"
        assert page.locator("svg[data-chart=accept-rate] circle.pt").count() >= 1
        assert page.locator("svg[data-chart=volume] rect.bar").count() >= 2
        sizes = watch.labels("[data-section=sizes] g.row")
        assert {"billing", "shipping", "account", XSS_DOMAIN} <= set(sizes)
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert set(watch.texts("svg[data-chart=reject-reasons] text.hlab")) == set(
            seeded.reject_reasons
        )
        assert set(watch.texts("svg[data-chart=dlq-reasons] text.hlab")) == set(seeded.dlq_reasons)
        assert page.locator("[data-section=scores] .hrow[data-domain] rect.bar").count() > 10
        active = watch.texts("[data-table=active-alerts] .rule")
        assert active == ["dlq_spike"]  # fired by the monitor's engine on the produced records
        assert "dlq_spike" in watch.texts("[data-table=recent-alerts] .rule")
        # The monitor's own windows: their records add up to what was produced.
        assert page.locator("svg[data-chart=windows-volume] rect.bar").count() >= 2
        windows_before = int(page.locator("[data-windows]").get_attribute("data-windows"))

        # A live refresh: more rows in the store and more records on the topics, no reload.
        page.evaluate("window.sameDocument = true")
        more = seed(postgres_url, n=12, dlq=0, salt="more-")
        second = _records(layout, 500, curated=12, rejected=2, dlq=0)
        off_loop(lambda: asyncio.run(produce(run, second)))
        expected = str(seeded.total_curated + 1 + more.total_curated)
        # Functions, not expression strings: the page's CSP forbids eval, which those need.
        page.wait_for_function(
            "(n) => document.querySelector('[data-kpi=curated] .v').textContent === n",
            arg=expected,
            timeout=30_000,
        )
        page.wait_for_function(
            "(n) => Number(document.querySelector('[data-windows]').dataset.windows) > n",
            arg=windows_before,
            timeout=30_000,
        )
        assert page.evaluate("window.sameDocument") is True
        assert watch.page.locator("#status").inner_text().startswith("Live · updated")
        page.screenshot(path=str(out / "dashboard-live.png"), full_page=True)
        assert watch.errors == [], watch.errors
        assert watch.foreign == [], watch.foreign
        watch.close()
    finally:
        sup.stop()

    report = out / "dashboard-report.html"
    done = subprocess.run(
        [sys.executable, "-m", "winnow", "report", "--out", str(report), "--since", "1h"],
        env={**os.environ, "WINNOW_DATABASE_URL": postgres_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    static = PageWatch(browser, report.as_uri())
    static.page.goto(report.as_uri())
    assert static.kpi("curated") == expected
    assert static.page.locator("script").count() == 0
    assert static.page.locator("svg.chart").count() >= 8
    # The store holds the seeded firing alert and the one the monitor fired in this run.
    assert static.texts("[data-table=active-alerts] .rule") == ["dlq_spike", "dlq_spike"]
    assert static.page.locator("#status").inner_text().startswith("Static report")
    static.page.screenshot(path=str(out / "dashboard-report.png"), full_page=True)
    assert static.errors == [] and static.foreign == [], (static.errors, static.foreign)
    static.close()
    assert (out / "dashboard-live.png").stat().st_size > 10_000
