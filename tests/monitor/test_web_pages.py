"""What the services' web ports serve: Winnow's pages only, not faust's unauthenticated ones.

The adversarial run read faust's `/router/` (partition assignment) and `/table/` (table dumps)
and the monitor's per-tenant `/windows` from the monitor's port without any credentials.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from winnow.agents.monitor import build
from winnow.agents.runtime import build_app
from winnow.settings import Settings


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        kafka_bootstrap="127.0.0.1:1",
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        data_dir=tmp_path,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("service", ["validator", "scorer", "curator", "monitor"])
def test_faust_router_and_table_pages_are_off(tmp_path: Path, service: str) -> None:
    """No faust blueprint but the production index ('/') is mounted on any service."""
    app = build_app(service, _settings(tmp_path))
    mounted = [prefix for prefix, _ in app.web.blueprints._enabled]
    assert mounted == [""]
    assert not {"/router", "/table", "/graph", "/stats"} & set(mounted)


def test_monitor_windows_page_is_opt_in(tmp_path: Path) -> None:
    """`/windows` exists only with WINNOW_MONITOR_WINDOWS_PAGE; the health pages always do."""
    default = set(build(_settings(tmp_path)).web.views)
    assert "/windows" not in default
    assert {"/healthz", "/readyz", "/metrics", "/alerts", "/dashboard"} <= default
    opted_in = set(build(_settings(tmp_path, monitor_windows_page=True)).web.views)
    assert "/windows" in opted_in


def test_worker_writes_no_terminal_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worker's start-up writes nothing to stdout (faust's spinner wrote `\\b\\x1b[?25h`)."""
    import asyncio

    from winnow.agents.runtime import WinnowWorker

    loop = asyncio.new_event_loop()
    try:
        worker = WinnowWorker(
            build_app("validator", _settings(tmp_path)),
            loop=loop,
            grace_s=1.0,
            quiet=True,
            redirect_stdouts=False,
            override_logging=False,
        )
        worker._on_startup_end_spinner()
    finally:
        loop.close()
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\b" not in out
