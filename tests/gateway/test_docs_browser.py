"""`/docs` in a real headless browser: Swagger UI renders with no request leaving the gateway.

FastAPI's default page loaded Swagger UI from a CDN (nothing in an air-gapped cluster) with an
inline script (blocked by a strict CSP). The gateway now serves the assets itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.browser import headless_chromium
from tests.gateway.serve import Served
from tests.monitor.test_dashboard_browser import PageWatch

from winnow.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Debian chromium; skipped without it on a workstation, a failure in CI."""
    yield from headless_chromium()


def test_docs_render_offline_under_the_csp(
    chromium: Any, make_settings: Callable[..., Settings]
) -> None:
    """Swagger UI draws every operation; every request stays on the gateway; no CSP errors."""
    with Served(make_settings()) as served:
        page = httpx.get(f"{served.base}/docs")
        assert page.status_code == 200
        csp = page.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'" and directives["default-src"] == "'none'"
        assert "cdn" not in page.text and "<script>" not in page.text
        assert httpx.get(f"{served.base}/redoc").status_code == 404
        watch = PageWatch(chromium, served.base)
        try:
            watch.page.goto(f"{served.base}/docs", wait_until="networkidle")
            watch.page.wait_for_selector(".opblock-summary-path", timeout=15_000)
            title = watch.page.locator(".info .title").inner_text()
            paths = set(watch.texts(".opblock-summary-path"))
        finally:
            watch.close()
    assert title.startswith("Winnow gateway")
    assert {"/v1/events", "/v1/examples", "/v1/stats", "/v1/export"} <= paths
    assert watch.foreign == []
    assert watch.errors == []
