"""Headless Debian chromium for the browser tests (dashboard, gateway /docs), driven by Playwright.

Never `playwright install`: the tests use the chromium that `.ci/run` installs from Debian, so no
browser build is downloaded. Missing chromium or Playwright skips on a workstation and fails in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Offline and quiet: no first-run pages, updates, sync or QUIC probes from the test browser.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def headless_chromium() -> Iterator[Any]:
    """Yield a launched Playwright browser; skip (or fail under CI) when it cannot start."""
    missing = None if CHROMIUM.exists() else f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {missing}")
        pytest.skip(missing)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
