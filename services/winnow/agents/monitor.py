"""monitor: curated, rejected and DLQ topics -> window statistics, suites, drift and alerts.

Windows are tumbling, ``WINNOW_MONITOR_WINDOW_S`` long, kept in memory by a faust timer over
the pure ``WindowStats`` accumulator: faust's windowed tables need changelog topics with
compaction, which the embedded broker does not do, and a monitor's statistics may start afresh
after a restart. Run one replica: each replica sees only the partitions it owns.

Besides ``/alerts`` and, with ``WINNOW_MONITOR_WINDOWS_PAGE``, ``/windows`` (JSON), it serves
the data-quality dashboard: ``/dashboard`` (HTML that refreshes itself from
``/dashboard/fragment``) and ``/dashboard.json``, to holders of a ``read``-scoped API key
(``winnow.monitor.access``) unless ``WINNOW_MONITOR_DASHBOARD_OPEN``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import structlog

from winnow.agents.batches import send_all
from winnow.agents.runtime import WinnowApp, build_app
from winnow.kafka.binding import binary_headers
from winnow.metrics import EVENTS_IN, STORE_ERRORS
from winnow.monitor.access import DashboardGuard, cookie_header, presented_key
from winnow.monitor.core import Monitor, WindowResult, alert_event
from winnow.monitor.dashboard import render_body, render_page
from winnow.monitor.expectations import warm_up
from winnow.monitor.rules import AlertTransition
from winnow.monitor.snapshot import LiveSnapshots
from winnow.monitor.store import MonitorStore
from winnow.monitor.webhook import send_alerts
from winnow.monitor.window import Outcome, WindowStats
from winnow.settings import Settings
from winnow.topics import TopicLayout

SERVICE: Final = "monitor"
log = structlog.get_logger(SERVICE)


@dataclass
class MonitorState:
    """What the monitor's agent, window timer and pages share."""

    app: WinnowApp
    settings: Settings
    monitor: Monitor
    store: MonitorStore
    window: WindowStats
    """The open window; replaced by a fresh one when it closes."""
    firing: list[AlertTransition] = field(default_factory=list)
    """Replaced after each window on the event loop, so the dashboard never reads the engine
    while a window's evaluation (in a worker thread) changes it."""


def dashboard_guard(settings: Settings) -> DashboardGuard:
    """The dashboard's access rule from settings: open, or keys checked against the store.

    Without a pepper (outside development) no key can verify, so a closed dashboard then
    refuses everyone rather than accept keys hashed without the server secret.
    """
    if settings.monitor_dashboard_open:
        return DashboardGuard(open=True, verify=None)
    if settings.api_key_pepper is None and settings.env != "development":
        log.warning("dashboard_closed_no_pepper", hint="set WINNOW_API_KEY_PEPPER_FILE")
        return DashboardGuard(open=False, verify=None)
    from winnow.gateway.app import _pepper
    from winnow.gateway.keys import KeyStore
    from winnow.store.store import make_engine

    keys = KeyStore(make_engine(settings.database_url), _pepper(settings))
    return DashboardGuard(open=False, verify=keys.verify)


def build(settings: Settings) -> WinnowApp:
    """The monitor's faust app."""
    app = build_app(SERVICE, settings)
    app.set_ready("suites", False)
    layout = TopicLayout.from_settings(settings)
    state = MonitorState(
        app=app,
        settings=settings,
        monitor=Monitor.from_settings(settings),
        store=MonitorStore(settings.database_url),
        window=WindowStats(max_rows=settings.monitor_ge_max_rows),
    )

    @app.task  # type: ignore[untyped-decorator]  # faust types app.task loosely
    async def _warm_up() -> None:
        seconds = await asyncio.to_thread(warm_up)
        log.info("expectations_ready", import_s=round(seconds, 2))
        app.set_ready("suites", True)

    _wire_observe(state, layout)
    _wire_window(state, app.topic(layout.alerts, key_serializer="raw", value_serializer="raw"))
    _wire_pages(state)
    return app


def _wire_observe(state: MonitorState, layout: TopicLayout) -> None:
    app, settings = state.app, state.settings
    outcomes: dict[str, Outcome] = {
        layout.curated: "curated",
        layout.rejected: "rejected",
        layout.dlq: "dlq",
    }
    # Raw bytes in: a typed faust topic would crash the agent on undecodable input and skip it.
    inputs = app.topic(
        *outcomes, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )

    @app.agent(inputs)
    async def observe(stream: Any) -> None:
        async for events in stream.take_events(settings.batch_max, within=settings.batch_wait_s):
            window = state.window
            for event in events:
                msg = event.message
                EVENTS_IN.labels(SERVICE, msg.topic).inc()
                raw = event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
                window.add(outcomes.get(msg.topic, "dlq"), raw)


def _wire_window(state: MonitorState, alerts_out: Any) -> None:
    app, settings, monitor = state.app, state.settings, state.monitor

    @app.timer(interval=settings.monitor_window_s)  # type: ignore[untyped-decorator]
    async def close_window() -> None:
        closing = state.window
        now = datetime.now(UTC)
        summary = closing.close(now)
        state.window = WindowStats(
            now, last_seen=summary.last_seen, max_rows=settings.monitor_ge_max_rows
        )
        backlog = await _retrain_backlog(state.store)
        result = await asyncio.to_thread(monitor.close, summary, retrain_backlog=backlog, now=now)
        state.firing = monitor.engine.active()
        await _publish(app, settings, state.store, alerts_out, result)


def _wire_pages(state: MonitorState) -> None:
    app, settings, monitor = state.app, state.settings, state.monitor
    snapshots = LiveSnapshots(
        state.store,
        history=lambda: list(monitor.history),
        active=lambda: state.firing,
        lookback_s=settings.monitor_dashboard_lookback_h * 3600,
        window_s=settings.monitor_window_s,
        max_age_s=min(settings.monitor_dashboard_refresh_s / 2, 10.0),
    )

    @app.page("/alerts")
    async def alerts_page(web: Any, request: Any) -> Any:
        return web.json(
            {
                "active": [
                    {**vars(a), "severity": a.severity.value, "started_at": str(a.started_at)}
                    for a in monitor.engine.active()
                ]
            }
        )

    if settings.monitor_windows_page:
        _add_windows_page(app, monitor)

    guard = dashboard_guard(settings)

    async def denied(web: Any, request: Any) -> Any | None:
        key = presented_key(request.headers, request.cookies)
        if await asyncio.to_thread(guard.allowed, key):
            return None
        return web.json(
            {
                "detail": "the dashboard needs an API key with the read scope "
                "(Authorization: Bearer KEY, or open /dashboard?key=KEY once)"
            },
            status=401,
            headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"},
        )

    @app.page("/dashboard")
    async def dashboard_page(web: Any, request: Any) -> Any:
        key = request.query.get("key")
        if key and await asyncio.to_thread(guard.allowed, key):
            # Hand the key to the browser as a cookie and drop it from the address bar.
            headers = {"Location": "/dashboard", "Set-Cookie": cookie_header(key)}
            return web.html("", status=303, headers=headers)
        if (refused := await denied(web, request)) is not None:
            return refused
        page = render_page(await snapshots.get(), refresh_s=settings.monitor_dashboard_refresh_s)
        return web.html(page, headers={"Cache-Control": "no-store"})

    @app.page("/dashboard/fragment")
    async def dashboard_fragment(web: Any, request: Any) -> Any:
        if (refused := await denied(web, request)) is not None:
            return refused
        return web.html(render_body(await snapshots.get()), headers={"Cache-Control": "no-store"})

    @app.page("/dashboard.json")
    async def dashboard_json(web: Any, request: Any) -> Any:
        if (refused := await denied(web, request)) is not None:
            return refused
        return web.json((await snapshots.get()).as_dict(), headers={"Cache-Control": "no-store"})


def _add_windows_page(app: WinnowApp, monitor: Monitor) -> None:
    """``/windows``: per-tenant window statistics, unauthenticated, so only when opted in."""

    @app.page("/windows")
    async def windows_page(web: Any, request: Any) -> Any:
        return web.json({"windows": list(monitor.history)})


async def _retrain_backlog(store: MonitorStore) -> int | None:
    try:
        return await asyncio.to_thread(store.retrain_backlog)
    except Exception as exc:
        STORE_ERRORS.labels("retrain_backlog").inc()
        log.warning("retrain_backlog_unavailable", error=type(exc).__name__)
        return None


async def _publish(
    app: WinnowApp, settings: Settings, store: MonitorStore, alerts_out: Any, result: WindowResult
) -> None:
    s = result.summary
    log.info(
        "window_closed",
        events=s.events,
        curated=s.curated,
        rejected=s.rejected,
        dlq=s.dlq,
        drift={k: round(v, 3) for k, v in result.drift.items()},
        suites={r.suite: len(r.failed) for r in result.suites},
        ge_ms=[round(r.duration_s * 1000, 1) for r in result.suites],
    )
    for t in result.transitions:
        log.warning(
            "alert_" + t.status, rule=t.rule, severity=t.severity.value, value=t.value, **t.labels
        )
    try:
        await asyncio.to_thread(store.record_runs, result.suites, s.start, s.end)
        await asyncio.to_thread(store.record_transitions, result.transitions)
        app.set_ready("store", True)
    except Exception as exc:
        # The window is lost for the store, not for the topic, the webhook or the gauges.
        STORE_ERRORS.labels("monitor_write").inc()
        app.set_ready("store", False)
        log.warning("monitor_store_failed", error=type(exc).__name__)
    events = [alert_event(t, s.end) for t in result.transitions]
    await send_all(
        alerts_out,
        [
            (
                e.id.encode(),
                e.model_dump_json().encode(),
                binary_headers(
                    event_type=e.type,
                    event_id=e.id,
                    service=SERVICE,
                    time=e.window_end,
                    subject=e.rule,
                ),
            )
            for e in events
        ],
        service=SERVICE,
    )
    if settings.alert_webhook_url and result.transitions:
        await asyncio.to_thread(
            send_alerts,
            settings.alert_webhook_url,
            result.transitions,
            fmt=settings.alert_webhook_format,
            external_url=settings.alert_external_url,
            timeout_s=settings.alert_webhook_timeout_s,
            retries=settings.alert_webhook_retries,
        )
