"""The auth matrix: every way a request can be refused, on every route, and no key in the logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
import structlog
from fastapi.testclient import TestClient

from winnow.gateway.keys import KeyStore, parse_scopes
from winnow.testing.fixtures import ticket_event

ROUTES = [
    ("POST", "/v1/events"),
    ("GET", "/v1/examples"),
    ("GET", "/v1/stats"),
    ("GET", "/v1/export"),
]
SCOPE_OF = {
    "/v1/events": "ingest",
    "/v1/examples": "read",
    "/v1/stats": "read",
    "/v1/export": "export",
}


def _call(client: TestClient, method: str, path: str, key: str | None, tenant: str) -> object:
    headers = {"X-API-Key": key} if key is not None else {}
    if method == "POST":
        body = ticket_event(
            "Where is my order?", "It ships tomorrow, tracking by mail.", tenant=tenant
        )
        return client.post(path, json=body, headers=headers)
    return client.get(path, headers=headers)


class TestAuthMatrix:
    """Each refusal has its status and message, on every route."""

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_no_key(self, client: TestClient, tenant: str, method: str, path: str) -> None:
        """A request without `X-API-Key` is refused with 401."""
        r = _call(client, method, path, None, tenant)
        assert r.status_code == 401  # type: ignore[attr-defined]
        assert r.json() == {"detail": "missing API key"}  # type: ignore[attr-defined]
        assert r.headers["WWW-Authenticate"] == "ApiKey"  # type: ignore[attr-defined]

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_wrong_key(
        self, client: TestClient, make_key: Callable[..., str], tenant: str, method: str, path: str
    ) -> None:
        """A real key id with a wrong secret, and a malformed key, are refused with 401."""
        good = make_key(tenant)
        forged = "_".join(good.split("_", 2)[:2]) + "_" + "A" * 43
        for key in (forged, "not-a-key", "wnw_000000000000_" + "B" * 43):
            r = _call(client, method, path, key, tenant)
            assert r.status_code == 401, key  # type: ignore[attr-defined]
            assert r.json() == {"detail": "invalid or revoked API key"}  # type: ignore[attr-defined]

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_revoked_key(
        self, client: TestClient, keys: KeyStore, tenant: str, method: str, path: str
    ) -> None:
        """A key works until it is revoked, then is refused with 401."""
        api_key, text = keys.create(tenant, parse_scopes("ingest,export,read"))
        assert _call(client, method, path, text, tenant).status_code in (200, 202)  # type: ignore[attr-defined]
        keys.revoke(api_key.id)
        r = _call(client, method, path, text, tenant)
        assert r.status_code == 401  # type: ignore[attr-defined]
        assert r.json() == {"detail": "invalid or revoked API key"}  # type: ignore[attr-defined]

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_missing_scope(
        self, client: TestClient, make_key: Callable[..., str], tenant: str, method: str, path: str
    ) -> None:
        """A key holding every scope but the route's is refused with 403."""
        needed = SCOPE_OF[path]
        others = ",".join(s for s in ("ingest", "export", "read") if s != needed)
        r = _call(client, method, path, make_key(tenant, others), tenant)
        assert r.status_code == 403  # type: ignore[attr-defined]
        assert r.json() == {"detail": f"this key lacks the {needed!r} scope"}  # type: ignore[attr-defined]

    @pytest.mark.parametrize("path", ["/v1/examples", "/v1/stats", "/v1/export"])
    def test_wrong_tenant_read(
        self, client: TestClient, make_key: Callable[..., str], tenant: str, path: str
    ) -> None:
        """Asking to read another tenant's data is refused with 403."""
        r = client.get(
            path, params={"tenant": "someone-else"}, headers={"X-API-Key": make_key(tenant)}
        )
        assert r.status_code == 403
        assert r.json() == {"detail": "this key belongs to another tenant"}

    def test_wrong_tenant_ingest(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """An event of another tenant is refused per item and nothing is accepted."""
        body = ticket_event("Where is my order?", "It ships tomorrow.", tenant="someone-else")
        r = client.post("/v1/events", json=body, headers={"X-API-Key": make_key(tenant)})
        assert r.status_code == 202
        out = r.json()
        assert out["accepted"] == [] and out["duplicates"] == []
        assert out["rejected"] == [
            {
                "index": 0,
                "id": body["id"],
                "reason": "tenant_mismatch",
                "error": "the event's tenant is not the API key's tenant",
            }
        ]

    def test_right_key_passes(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """The control: a valid key with the scope and its own tenant's event is accepted."""
        body = ticket_event("Where is my order?", "It ships tomorrow.", tenant=tenant)
        r = client.post("/v1/events", json=body, headers={"X-API-Key": make_key(tenant, "ingest")})
        assert r.status_code == 202
        assert r.json()["accepted"] == [body["id"]]


def test_no_key_in_logs(
    client: TestClient, make_key: Callable[..., str], tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither a valid nor a forged key appears in any log line the gateway writes."""
    key = make_key(tenant)
    secret = key.split("_", 2)[2]
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as captured:
        body = ticket_event("Where is my order?", "It ships tomorrow.", tenant=tenant)
        assert client.post("/v1/events", json=body, headers={"X-API-Key": key}).status_code == 202
        assert client.get("/v1/stats", headers={"X-API-Key": key + "x"}).status_code == 401
        assert client.get("/v1/export", headers={"X-API-Key": key}).status_code == 200
    assert any(e["event"] == "gateway_request" for e in captured)
    text = json.dumps(captured, default=str) + caplog.text
    assert secret not in text and key not in text
