"""Tenant-scoped reads: examples and per-domain counts (``read``), exports (``export``).

The tenant is the API key's; a ``tenant`` parameter naming another one is refused (403).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from winnow.events import TENANT_MAX_CHARS, TENANT_PATTERN
from winnow.example import Example
from winnow.export.conflicts import ConflictPolicy, resolve
from winnow.export.exporter import scrub, unseen_rows
from winnow.export.formats import ExportFormat, dumps_line, rows_for
from winnow.gateway.auth import check_tenant, require
from winnow.gateway.keys import ApiKey, Scope
from winnow.settings import Settings
from winnow.store.queries import ExampleQuery, domain_counts, iter_examples
from winnow.store.store import ExampleStore


def known_query_only(request: Request) -> None:
    """Refuse unknown or repeated query parameters (422): a typo or a second value must not
    silently change what a request reads."""
    route = request.scope.get("route")
    known = {p.alias for p in getattr(getattr(route, "dependant", None), "query_params", [])}
    errors: list[dict[str, Any]] = []
    for name in dict.fromkeys(request.query_params):
        if name not in known:
            errors.append(
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "Extra inputs are not permitted",
                    "input": None,
                }
            )
        elif len(request.query_params.getlist(name)) > 1:  # parameter pollution: say no
            errors.append(
                {
                    "type": "too_many_values",
                    "loc": ("query", name),
                    "msg": "Give this parameter once",
                    "input": None,
                }
            )
    if errors:
        raise RequestValidationError(errors)


router = APIRouter(prefix="/v1", dependencies=[Depends(known_query_only)])

# No control characters: PostgreSQL text refuses NUL, which answered 500 (found by schemathesis).
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
TenantParam = Annotated[
    str | None,
    Query(
        max_length=TENANT_MAX_CHARS,
        pattern=TENANT_PATTERN,
        description="Optional; must be the key's own tenant.",
    ),
]
DomainParam = Annotated[
    str | None,
    Query(max_length=64, pattern=_PRINTABLE, description="Only this domain (`unrouted`: none)."),
]


class DomainStats(BaseModel):
    """Accepted examples of one domain of the key's tenant."""

    domain: str
    examples: int
    last_stored_at: datetime


def _store(request: Request) -> ExampleStore:
    store: ExampleStore = request.app.state.store
    return store


@router.get("/examples", response_model=list[Example], summary="The tenant's curated examples")
async def examples(
    request: Request,
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    tenant: TenantParam = None,
    domain: DomainParam = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Example]:
    """Up to ``limit`` accepted examples of the key's tenant, in id order (PII scrubbed)."""
    query = ExampleQuery(check_tenant(key, tenant), domain)

    def read() -> list[Example]:
        rows = itertools.islice(iter_examples(_store(request), query), limit)
        return [scrub(r.example)[0] for r in rows]

    return await run_in_threadpool(read)


@router.get("/stats", response_model=list[DomainStats], summary="Examples per domain")
async def stats(
    request: Request,
    key: Annotated[ApiKey, Depends(require(Scope.READ))],
    tenant: TenantParam = None,
) -> list[DomainStats]:
    """Accepted examples per domain of the key's tenant (for dashboards)."""
    counts = await run_in_threadpool(domain_counts, _store(request), check_tenant(key, tenant))
    return [
        DomainStats(domain=c.domain, examples=c.examples, last_stored_at=c.last_stored_at)
        for c in counts
    ]


@router.get(
    "/export",
    summary="Export the tenant's curated examples as JSONL",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
)
async def export(
    request: Request,
    key: Annotated[ApiKey, Depends(require(Scope.EXPORT))],
    tenant: TenantParam = None,
    domain: DomainParam = None,
    fmt: Annotated[
        Literal["openai-chat", "dpo", "kto"], Query(alias="format", description="Row format.")
    ] = "openai-chat",
    since: Annotated[datetime | None, Query(description="Curated at or after (ISO-8601).")] = None,
    # No NaN or infinities: `nan` silently disabled the filter and `-1e309` parsed as -inf.
    min_reward: Annotated[
        float | None, Query(allow_inf_nan=False, description="Lowest reward score.")
    ] = None,
) -> StreamingResponse:
    """Rows of the key's tenant's examples in one training format, one JSON object per line."""
    query = ExampleQuery(check_tenant(key, tenant), domain, since, min_reward)
    export_format = ExportFormat(fmt)
    store = _store(request)
    settings: Settings = request.app.state.settings
    # As every export: one label per (prompt, completion) over the tenant, each row once.
    resolution = await run_in_threadpool(
        resolve,
        (s.example for s in iter_examples(store, ExampleQuery(query.tenant))),
        ConflictPolicy(settings.feedback_conflict_policy),
        min_count=settings.feedback_conflict_min_count,
    )
    seen: set[bytes] = set()

    def lines() -> Iterator[str]:
        for stored in iter_examples(store, query):
            if not resolution.agrees(stored.example):
                continue
            rows = rows_for(scrub(stored.example)[0], export_format)
            for row in unseen_rows(rows, seen):
                yield dumps_line(row)

    return StreamingResponse(lines(), media_type="application/x-ndjson")
