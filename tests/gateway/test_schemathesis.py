"""Schemathesis against a running gateway (uvicorn) and the checked-in `schemas/openapi.json`.

At least 1,000 generated cases (positive and negative) across every operation; no 5xx; every
response conforms to the spec (status code, content type, headers, body schema); and every
documented status code of every operation is observed, those that generation cannot reach (no
key, missing scope, rate limit, Kafka down, oversize, wrong media type, slow body) by targeted
requests.

The budget comes from ``WINNOW_FUZZ_CASES`` (default 1,050; CI runs 2,100; a local run of 10,000
is documented in docs/gateway.md), split across operations in the proportions below, and the time
bound scales with it. The API key goes through schemathesis' auth, so a negative case that drops
the header really has no key (passing it as an extra header re-added it, a false ST201).
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import negative_data_rejection
from schemathesis.generation import GenerationMode
from tests.gateway.serve import Served

from winnow.gateway.app import create_app
from winnow.kafka.broker import free_port
from winnow.settings import Settings
from winnow.testing.fixtures import ticket_event

SPEC = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"
DEFAULT_CASES = 1050
FUZZ_CASES = int(os.environ.get("WINNOW_FUZZ_CASES", DEFAULT_CASES))
SCALE = max(FUZZ_CASES, DEFAULT_CASES) / DEFAULT_CASES
CASES = {GenerationMode.POSITIVE: round(110 * SCALE), GenerationMode.NEGATIVE: round(40 * SCALE)}
SECONDS_PER_CASE = 0.25
SCALE_FOR_TIMEOUT = 1.5  # the targeted requests and the second gateway after the fuzzing
EVENTS_CASES = {
    GenerationMode.POSITIVE: round(450 * SCALE),
    GenerationMode.NEGATIVE: round(150 * SCALE),
}


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[Served]:
    """A running gateway with a rate limit generation cannot exhaust."""
    settings = make_settings(
        gateway_rate_limit_per_s=1e6,
        gateway_rate_limit_burst=1_000_000,
        gateway_auth_failures_per_s=1e6,
        gateway_auth_failure_burst=1_000_000,
    )
    with Served(settings) as s:
        yield s


def _own_tenant(body: Any, tenant: str) -> Any:
    # Half the generated events get the key's tenant so the accept-and-produce path runs too.
    if isinstance(body, dict) and "tenant" in body and hash(str(body.get("id"))) % 2:
        return {**body, "tenant": tenant}
    if isinstance(body, list):
        return [_own_tenant(item, tenant) for item in body]
    return body


def _cut_emoji(body: Any) -> Any:
    """``body`` with its first string value ending in half an emoji (a lone surrogate).

    Schemathesis draws text without surrogates, as hypothesis does by default; a JavaScript
    string cut inside an emoji is what real clients send (it answered 500, issue 19).
    """
    if isinstance(body, str):
        return body + "\ud83d"
    if isinstance(body, dict):
        for name, value in body.items():
            if isinstance(value, str | dict | list):
                return {**body, name: _cut_emoji(value)}
    if isinstance(body, list) and body:
        return [_cut_emoji(body[0]), *body[1:]]
    return body


def _surrogate_twin(case: schemathesis.Case, base: str) -> int:
    """Send ``case``'s body with a cut emoji (outside schemathesis, whose own validation cannot
    encode a lone surrogate); no 5xx, JSON answers, and an object so cut is never accepted.
    Returns the status, or 0 when the body is not JSON (nothing sent)."""
    body = _cut_emoji(case.body)
    try:
        content = json.dumps(body).encode()
    except TypeError:  # binary bodies (negative cases): nothing to cut
        return 0
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "content-length"}
    headers["Content-Type"] = "application/json"
    response = httpx.post(f"{base}/v1/events", content=content, headers=headers)
    assert response.status_code < 500, response.text
    answer = response.json()
    if response.status_code == 202:
        assert set(answer) == {"accepted", "duplicates", "rejected"}
        if isinstance(body, dict):
            assert answer["accepted"] == [] and len(answer["rejected"]) == 1
    else:
        assert isinstance(answer["detail"], str | list)
    return response.status_code


def _fuzz(op: Any, mode: GenerationMode, n: int, base: str, tenant: str, seen: set[int]) -> int:
    """Run ``n`` generated cases of one operation; return how many ran."""
    ran = 0
    events = op.label == "POST /v1/events"
    # A batch with invalid items is answered 202 with per-item errors, by design.
    excluded = [negative_data_rejection] if events else []

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        nonlocal ran
        ran += 1
        if events and not isinstance(case.body, str):
            case.body = _own_tenant(case.body, tenant)
            if ran % 5 == 0 and (status := _surrogate_twin(case, base)):
                seen.add(status)
        response = case.call(base_url=base)
        seen.add(response.status_code)
        assert response.status_code < 500, response.text
        case.validate_response(response, excluded_checks=excluded)

    run()
    return ran


# pytest-timeout's 300 s would cut a larger budget short (and hypothesis then shrinks instead).
@pytest.mark.timeout(int(SECONDS_PER_CASE * FUZZ_CASES * SCALE_FOR_TIMEOUT) + 300)
def test_fuzz_the_running_gateway(
    served: Served,
    make_settings: Callable[..., Settings],
    make_key: Callable[..., str],
    tenant: str,
) -> None:
    """>= 1,000 generated cases, no 5xx, spec-conformant answers, every documented status seen."""
    schema = schemathesis.openapi.from_path(SPEC)
    key = make_key(tenant)

    @schema.auth()
    class _ApiKey:
        # Applied by schemathesis to each generated case, except where a negative case removes
        # the security parameter on purpose.
        def get(self, case: schemathesis.Case, context: Any) -> str:
            return key

        def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "X-API-Key": data}

    seen: dict[str, set[int]] = defaultdict(set)
    documented: dict[str, set[int]] = {}
    count = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        op = result.ok()
        documented[op.label] = {int(c) for c in op.definition.raw["responses"]}
        budget = EVENTS_CASES if op.label == "POST /v1/events" else CASES
        for mode, n in budget.items():
            count += _fuzz(op, mode, n, served.base, tenant, seen[op.label])
    elapsed = time.monotonic() - started
    print(f"schemathesis: {count} cases in {elapsed:.1f} s; statuses {dict(seen)}")
    assert count >= min(FUZZ_CASES, 1000)
    # A guard against a pathological slowdown (a hang, a per-case reconnect), not a benchmark:
    # 0.25 s a case, about three times what a heavily shared 2-core machine needed.
    assert elapsed < SECONDS_PER_CASE * count
    generated = {k: set(v) for k, v in seen.items()}
    _reach_the_rest(served, make_settings, make_key, tenant, seen)
    for label, codes in documented.items():
        assert codes <= seen[label], f"{label}: never saw {codes - seen[label]}"
    # Generation alone must reach the success and validation answers.
    assert 202 in generated["POST /v1/events"] and 200 in generated["GET /v1/stats"]


def _reach_the_rest(
    served: Served,
    make_settings: Callable[..., Settings],
    make_key: Callable[..., str],
    tenant: str,
    seen: dict[str, set[int]],
) -> None:
    """Targeted requests for the refusals that generated cases cannot provoke."""
    ops = {
        "POST /v1/events": "/v1/events",
        "GET /v1/examples": "/v1/examples",
        "GET /v1/stats": "/v1/stats",
        "GET /v1/export": "/v1/export",
    }
    wrong_scope = {
        "POST /v1/events": "read",
        "GET /v1/examples": "ingest",
        "GET /v1/stats": "ingest",
        "GET /v1/export": "read",
    }
    event = ticket_event("Where is my order?", "It ships tomorrow.", tenant=tenant)
    with httpx.Client(base_url=served.base) as http:
        for label, path in ops.items():
            method = label.split()[0]
            body = {"json": event} if method == "POST" else {}
            for headers in ({}, {"X-API-Key": make_key(tenant, wrong_scope[label])}):
                seen[label].add(http.request(method, path, headers=headers, **body).status_code)
        key = make_key(tenant, "ingest")
        for content, ctype in ((b"x" * 5_000_000, "application/json"), (b"hi", "text/plain")):
            r = http.post(
                "/v1/events", content=content, headers={"X-API-Key": key, "Content-Type": ctype}
            )
            seen["POST /v1/events"].add(r.status_code)
    with Served(make_settings(gateway_body_timeout_s=0.3)) as slow:
        seen["POST /v1/events"].add(_slow_body(slow, make_key(tenant, "ingest")))
    limited = make_settings(gateway_rate_limit_per_s=0.01, gateway_rate_limit_burst=1)
    with Served(limited) as s, httpx.Client(base_url=s.base) as http:
        for label, path in ops.items():
            method = label.split()[0]
            headers = {"X-API-Key": make_key(tenant)}
            body = {"json": event} if method == "POST" else {}
            for _ in range(2):
                seen[label].add(http.request(method, path, headers=headers, **body).status_code)
    # Kafka down: the app starts, is not ready, and ingestion answers 503.
    down = make_settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    from fastapi.testclient import TestClient

    with TestClient(create_app(down)) as client:
        r = client.post("/v1/events", json=event, headers={"X-API-Key": make_key(tenant)})
        seen["POST /v1/events"].add(r.status_code)


def _slow_body(served: Served, key: str) -> int:
    """POST a body that never completes; return the status the gateway answers (408)."""
    import socket

    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\nX-API-Key: " + key.encode() + b"\r\n\r\n{"
        )
        answer = sock.recv(65536)
    return int(answer.split(b" ", 2)[1])
