"""The gateway service: ``create_app(settings)`` builds it, ``run(settings)`` serves it (uvicorn).

Routes: ``POST /v1/events`` (scope ``ingest``), ``GET /v1/examples`` and ``GET /v1/stats``
(``read``), ``GET /v1/export`` (``export``), and ``/healthz``, ``/readyz``, ``/metrics`` as in the
other services. The tenant always comes from the API key, never from the request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from starlette.requests import ClientDisconnect

from winnow import tracing
from winnow.errors import ConfigurationError
from winnow.gateway.auth import require
from winnow.gateway.docs import add_docs
from winnow.gateway.idempotency import claim, purge, release
from winnow.gateway.ingest import (
    BodyError,
    IngestResponse,
    check_encoding,
    split_body,
    validate_items,
)
from winnow.gateway.keys import ApiKey, KeyStore, Scope
from winnow.gateway.metrics import EVENTS, REQUEST_SECONDS, REQUESTS
from winnow.gateway.openapi import build_openapi
from winnow.gateway.publisher import Publisher
from winnow.gateway.ratelimit import RateLimiter
from winnow.gateway.reads import known_query_only
from winnow.gateway.reads import router as reads_router
from winnow.gateway.serving import uvicorn_options
from winnow.kafka.binding import is_binary, structured_from_binary
from winnow.metrics import READY
from winnow.settings import Settings
from winnow.store.store import ExampleStore

log = structlog.get_logger(__name__)
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
HTTP_PREFIX = "ce-"
"""Header prefix of CloudEvents attributes in the HTTP binding's binary mode."""


class ErrorBody(BaseModel):
    """A refused request."""

    detail: str


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("No API key, or an unknown, wrong or revoked one."),
    403: _error("The key lacks the scope, or asks for another tenant."),
    429: _error(
        "The key's rate limit (per gateway replica) is exceeded, or too many failed "
        "authentications came from this address (see `Retry-After` and `RateLimit-*`)."
    ),
}


PEPPER_MISSING = (
    "no API key pepper: set WINNOW_API_KEY_PEPPER_FILE (a mounted Secret) or "
    "WINNOW_API_KEY_PEPPER, or WINNOW_ENV=development to run without one"
)


def _pepper(settings: Settings) -> bytes:
    """The pepper; raises ``ConfigurationError`` when it is unset outside development."""
    if settings.api_key_pepper is None:
        if settings.env != "development":
            raise ConfigurationError(PEPPER_MISSING)
        log.warning("api_key_pepper_unset", hint="development only: keys use an empty pepper")
        return b""
    return settings.api_key_pepper.get_secret_value().encode()


def _has_pepper(settings: Settings) -> bool:
    return settings.api_key_pepper is not None or settings.env == "development"


def create_app(settings: Settings, *, publisher: Publisher | None = None) -> FastAPI:
    """The gateway app; connects to Kafka and the store only when it starts (lifespan)."""
    store = ExampleStore(
        settings.database_url,
        connect_timeout_s=settings.store_connect_timeout_s,
        statement_timeout_s=settings.store_statement_timeout_s,
    )
    engine = store.engine
    pub = publisher or Publisher(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _pepper(settings)  # refuse to serve keys hashed without the server secret
        if settings.db_auto_migrate:
            from winnow.store.migrate import upgrade

            await run_in_threadpool(upgrade, settings.database_url)
        await pub.start()
        purger = asyncio.create_task(_purge_claims(app))
        try:
            yield
        finally:
            purger.cancel()
            await pub.stop()
            store.close()

    app = FastAPI(
        title="Winnow gateway",
        version="1.0.0",
        description="HTTP ingestion of source events into Winnow, and tenant-scoped reads.",
        lifespan=lifespan,
        # Self-hosted Swagger UI instead (gateway/docs.py); no ReDoc (another CDN page).
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.engine = engine
    # Built lazily-safe: `winnow gateway openapi` builds the app without a pepper; serving it
    # (lifespan, `run`) refuses to start without one.
    app.state.keys = KeyStore(engine, _pepper(settings) if _has_pepper(settings) else b"")
    app.state.limiter = RateLimiter(
        settings.gateway_rate_limit_per_s, settings.gateway_rate_limit_burst
    )
    app.state.auth_failures = RateLimiter(
        settings.gateway_auth_failures_per_s, settings.gateway_auth_failure_burst
    )
    app.state.publisher = pub
    app.openapi = lambda: app.openapi_schema or _cache(app)  # type: ignore[method-assign]
    _add_middleware(app)
    _add_ingest(app)
    app.include_router(reads_router, responses=AUTH_RESPONSES)
    _add_ops(app)
    add_docs(app)
    return app


async def _purge_claims(app: FastAPI, every_s: float = 3600.0) -> None:
    """Drop dedup claims older than the window, hourly, so the table stays bounded."""
    settings: Settings = app.state.settings
    while True:
        try:
            removed = await run_in_threadpool(
                purge, app.state.engine, window_s=settings.gateway_dedup_window_s
            )
            log.info("gateway_claims_purged", removed=removed)
        except Exception as exc:  # the store being down is retried next round
            log.warning("gateway_claims_purge_failed", error=type(exc).__name__)
        await asyncio.sleep(every_s)


def _cache(app: FastAPI) -> dict[str, Any]:
    app.openapi_schema = build_openapi(app)
    return app.openapi_schema


def _add_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def traced(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Added first, so it runs innermost: the request log and metrics stay as they were.
        tracer = tracing.tracer()
        if tracer is None or request.url.path in _QUIET_ROUTES:
            return await call_next(request)
        parent = propagate.extract(dict(request.headers))  # W3C traceparent, or a new trace
        attributes = {"http.request.method": request.method, "url.path": request.url.path}
        span = tracer.start_span(
            request.method, context=parent, kind=SpanKind.SERVER, attributes=attributes
        )
        with trace.use_span(span, end_on_exit=True):
            response = await call_next(request)
            route = getattr(request.scope.get("route"), "path", None)
            if route is not None:
                span.update_name(f"{request.method} {route}")
                span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(StatusCode.ERROR)
        return response

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        # Set by the auth dependency once the key is known; on every answer, 429 included.
        response.headers.update(getattr(request.state, "rate_limit", {}))
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(route, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(route).observe(time.perf_counter() - start)
        # Method, route template, status and the public key id only: no key, query or body.
        # Probes and scrapes at debug: they would drown the request log.
        emit = log.debug if route in _QUIET_ROUTES else log.info
        emit(
            "gateway_request",
            method=request.method,
            route=route,
            status=response.status_code,
            key_id=getattr(request.state, "key_id", None),
            ms=round((time.perf_counter() - start) * 1000, 1),
        )
        return response


async def _read_body(request: Request, limit: int, timeout_s: float) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyError(413, f"body of {declared} bytes > limit of {limit}")
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise BodyError(413, f"body > limit of {limit} bytes")
    except TimeoutError as exc:
        raise BodyError(408, f"body not received within {timeout_s:g} s") from exc
    except ClientDisconnect as exc:
        # The client went away mid-body: nothing to answer and nothing wrong with the server,
        # so no error-level traceback.
        log.debug("gateway_client_disconnected", key_id=getattr(request.state, "key_id", None))
        raise BodyError(400, "client disconnected before the body was complete") from exc
    return bytes(body)


def _add_ingest(app: FastAPI) -> None:
    settings: Settings = app.state.settings

    @app.post(
        "/v1/events",
        status_code=202,
        response_model=IngestResponse,
        summary="Ingest one event, a JSON array or NDJSON",
        dependencies=[Depends(known_query_only)],
        responses={
            **AUTH_RESPONSES,
            400: _error("The body is not JSON (or NDJSON), or holds no event."),
            408: _error("The body did not arrive within `WINNOW_GATEWAY_BODY_TIMEOUT_S`."),
            413: _error("The body or the batch is over its limit."),
            415: _error(
                "The content type is neither JSON nor NDJSON, or the body has a "
                "`Content-Encoding` other than identity."
            ),
            503: _error("Kafka is unavailable; nothing was produced, retry later."),
        },
    )
    async def ingest(
        request: Request, key: Annotated[ApiKey, Depends(require(Scope.INGEST))]
    ) -> IngestResponse | JSONResponse:
        """Validate each event as the pipeline would and produce the valid ones (202).

        CloudEvents over HTTP in either content mode: structured (`application/cloudevents+json`,
        or `application/cloudevents-batch+json` for an array) or binary (`ce-*` headers, `data`
        as the body)."""
        try:
            items = await _body_items(request, settings)
        except BodyError as exc:
            # A body cut short leaves the connection unusable: close it after answering.
            headers = {"Connection": "close"} if exc.status == 408 else None
            return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)
        parsed = validate_items(
            items,
            key.tenant,
            max_event_bytes=settings.max_event_bytes,
            surrogates=settings.lone_surrogates,
        )
        if not parsed.events:
            # Nothing to produce: per-item refusals are the answer whether Kafka is up or not.
            EVENTS.labels("rejected").inc(len(parsed.rejected))
            return IngestResponse(accepted=[], duplicates=[], rejected=parsed.rejected)
        if not app.state.publisher.ready:
            return JSONResponse({"detail": "Kafka is unavailable"}, status_code=503)
        first: dict[str, tuple[str, bytes]] = {}
        for _, event, raw in parsed.events:
            first.setdefault(event.id, (event.type, raw))
        produced = await _claim_and_produce(app, key, first)
        if produced is None:
            return JSONResponse({"detail": "Kafka is unavailable"}, status_code=503)
        accepted, claimed = produced
        # An id repeated inside the request counts once as accepted, then as a duplicate.
        seen: set[str] = set()
        dupes: list[str] = []
        for _, e, _ in parsed.events:
            if e.id in seen or e.id not in claimed:
                dupes.append(e.id)
            seen.add(e.id)
        EVENTS.labels("accepted").inc(len(accepted))
        EVENTS.labels("duplicate").inc(len(dupes))
        EVENTS.labels("rejected").inc(len(parsed.rejected))
        return IngestResponse(accepted=accepted, duplicates=dupes, rejected=parsed.rejected)


async def _body_items(request: Request, settings: Settings) -> list[bytes]:
    """The request's raw events; a binary-mode CloudEvent becomes its structured form."""
    check_encoding(request.headers.get("content-encoding", ""))
    limit, timeout_s = settings.gateway_max_body_bytes, settings.gateway_body_timeout_s
    body = await _read_body(request, limit, timeout_s)
    headers = request.headers.items()
    if is_binary(headers, prefix=HTTP_PREFIX):
        return [structured_from_binary(headers, body, prefix=HTTP_PREFIX, percent_encoded=True)]
    content_type = request.headers.get("content-type", "application/json")
    return split_body(body, content_type, max_batch=settings.gateway_max_batch)


async def _claim_and_produce(
    app: FastAPI, key: ApiKey, first: dict[str, tuple[str, bytes]]
) -> tuple[list[str], set[str]] | None:
    """Claim the event ids (dedup window) and produce the claimed ones, each in a ``create``
    span whose context its record carries; (accepted, claimed), or None when Kafka failed."""
    publisher: Publisher = app.state.publisher
    settings: Settings = app.state.settings
    engine = app.state.engine
    claimed, claimed_at = await run_in_threadpool(
        claim, engine, key.tenant, list(first), window_s=settings.gateway_dedup_window_s
    )
    accepted = [i for i in first if i in claimed]
    topics = [publisher.topic_for(first[i][0]) for i in accepted]
    try:
        with tracing.producing(list(zip(topics, accepted, strict=True))) as headers:
            await publisher.send(
                [
                    (t, i.encode(), first[i][1], h)
                    for t, i, h in zip(topics, accepted, headers, strict=True)
                ]
            )
    except Exception as exc:
        await run_in_threadpool(release, engine, key.tenant, accepted, claimed_at)
        log.warning("gateway_produce_failed", error=type(exc).__name__, key_id=key.id)
        return None
    return accepted, claimed


def _add_ops(app: FastAPI) -> None:
    def store_ok() -> bool:
        try:
            with app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = {"kafka": app.state.publisher.ready, "store": await run_in_threadpool(store_ok)}
        ready = all(checks.values())
        READY.labels("gateway").set(1 if ready else 0)
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def run(settings: Settings) -> None:
    """Serve the gateway with uvicorn on ``WINNOW_WEB_HOST``:``WINNOW_WEB_PORT``."""
    import uvicorn

    from winnow.log import configure_logging

    configure_logging(settings)
    try:
        tracing.configure_tracing("winnow-gateway")
        _pepper(settings)
    except ConfigurationError as exc:
        raise SystemExit(f"winnow gateway: {exc}") from None
    uvicorn.run(
        create_app(settings),
        host=settings.web_host,
        port=settings.web_port,
        **uvicorn_options(settings),
    )
