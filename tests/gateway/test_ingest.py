"""`POST /v1/events`: single, array and NDJSON bodies, idempotence, limits and the rate limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient

from winnow.settings import Settings
from winnow.testing.fixtures import feedback_event, synthetic_event, ticket_event
from winnow.topics import TopicLayout

StartClient = Callable[[Settings], AbstractContextManager[TestClient]]


def _events(tenant: str, n: int) -> list[dict[str, object]]:
    makers = [
        lambda: ticket_event("Where is my order?", "It ships tomorrow.", tenant=tenant),
        lambda: feedback_event("How do I reset it?", "Hold the button.", tenant=tenant),
        lambda: synthetic_event("What is 2+2?", "Four.", tenant=tenant),
    ]
    return [makers[i % 3]() for i in range(n)]


async def _drain(
    settings: Settings, expected: int, idle_s: float = 1.5
) -> list[tuple[str, bytes, bytes]]:
    topics = TopicLayout.from_settings(settings).sources
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[tuple[str, bytes, bytes]] = []
    try:
        async with asyncio.timeout(30):
            idle = 0.0
            while len(seen) < expected or idle < idle_s:  # then wait a little for extras
                batch = await consumer.getmany(timeout_ms=250)
                records = [r for rs in batch.values() for r in rs]
                idle = idle + 0.25 if not records else 0.0
                seen += [(r.topic, r.key, r.value) for r in records]
    finally:
        await consumer.stop()
    return seen


def _post(client: TestClient, key: str, body: object, ctype: str = "application/json") -> object:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/v1/events", content=data, headers={"X-API-Key": key, "Content-Type": ctype}
    )


class TestBodies:
    """One event, a JSON array and NDJSON all go to their source topics, keyed by event id."""

    def test_single_array_ndjson(
        self, client: TestClient, settings: Settings, make_key: Callable[..., str], tenant: str
    ) -> None:
        """Each form is accepted and every event is produced once to its type's topic."""
        key = make_key(tenant, "ingest")
        single, *array = _events(tenant, 4)
        nd = _events(tenant, 3)
        r1 = _post(client, key, single)
        r2 = _post(client, key, array)
        r3 = _post(
            client,
            key,
            b"\n".join(json.dumps(e).encode() for e in nd) + b"\n",
            "application/x-ndjson",
        )
        for r, batch in ((r1, [single]), (r2, array), (r3, nd)):
            assert r.status_code == 202  # type: ignore[attr-defined]
            assert r.json() == {  # type: ignore[attr-defined]
                "accepted": [e["id"] for e in batch],
                "duplicates": [],
                "rejected": [],
            }
        seen = asyncio.run(_drain(settings, 7))
        layout = TopicLayout.from_settings(settings)
        want = {
            "winnow.support_ticket.v1": "tickets",
            "winnow.chat_feedback.v1": "feedback",
            "winnow.synthetic_example.v1": "synthetic",
        }
        expected = sorted(
            (layout.source(want[str(e["type"])]), str(e["id"]).encode())
            for e in [single, *array, *nd]
        )
        assert sorted((t, k) for t, k, _ in seen) == expected
        assert all(json.loads(v)["tenant"] == tenant for _, _, v in seen)

    def test_per_item_errors(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """Invalid items are refused with the validator's reasons; the valid ones go through."""
        key = make_key(tenant, "ingest")
        good = _events(tenant, 2)
        bad_schema = {**good[0], "id": "x-1", "data": {"ticket_id": ""}}
        bad_type = {**good[0], "id": "x-2", "type": "winnow.nope.v9"}
        r = _post(client, key, [good[0], bad_schema, bad_type, good[1]])
        assert r.status_code == 202  # type: ignore[attr-defined]
        out = r.json()  # type: ignore[attr-defined]
        assert out["accepted"] == [good[0]["id"], good[1]["id"]]
        assert [(e["index"], e["id"], e["reason"]) for e in out["rejected"]] == [
            (1, "x-1", "schema_violation"),
            (2, "x-2", "unknown_type"),
        ]
        assert all(e["error"] for e in out["rejected"])
        nd = json.dumps(_events(tenant, 1)[0]).encode() + b"\n{broken\n\xff\xfe\n"
        r = _post(client, key, nd, "application/x-ndjson")
        assert r.status_code == 202  # type: ignore[attr-defined]
        assert [e["reason"] for e in r.json()["rejected"]] == ["invalid_json", "invalid_utf8"]  # type: ignore[attr-defined]


class TestIdempotence:
    """An event id accepted once is not produced again within the window."""

    def test_redelivery_is_a_duplicate(
        self, client: TestClient, settings: Settings, make_key: Callable[..., str], tenant: str
    ) -> None:
        """The same event posted twice, and twice in one request, is produced exactly once."""
        key = make_key(tenant, "ingest")
        event, other = _events(tenant, 2)
        assert _post(client, key, event).json()["accepted"] == [event["id"]]  # type: ignore[attr-defined]
        r = _post(client, key, [event, other, other])
        assert r.json() == {  # type: ignore[attr-defined]
            "accepted": [other["id"]],
            "duplicates": [event["id"], other["id"]],
            "rejected": [],
        }
        seen = asyncio.run(_drain(settings, 2))
        assert sorted(k for _, k, _ in seen) == sorted(
            [str(event["id"]).encode(), str(other["id"]).encode()]
        )

    def test_same_id_other_tenant_is_not_a_duplicate(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """Dedup is per tenant: another tenant may reuse an event id."""
        event = _events(tenant, 1)[0]
        assert _post(client, make_key(tenant), event).json()["accepted"] == [event["id"]]  # type: ignore[attr-defined]
        other = {**event, "tenant": tenant + "-b"}
        assert _post(client, make_key(tenant + "-b"), other).json()["accepted"] == [event["id"]]  # type: ignore[attr-defined]


class TestLimits:
    """Body size, batch size, media type and malformed bodies are refused as a whole."""

    def test_refusals(
        self,
        make_settings: Callable[..., Settings],
        start_client: StartClient,
        make_key: Callable[..., str],
        tenant: str,
    ) -> None:
        """413 for a big body or batch, 415 for another media type, 400 for non-JSON."""
        settings = make_settings(gateway_max_body_bytes=4096, gateway_max_batch=3)
        key = make_key(tenant, "ingest")
        with start_client(settings) as client:
            big = ticket_event("q", "a" * 5000, tenant=tenant)
            cases: list[tuple[object, str, int, str]] = [
                (big, "application/json", 413, "limit of 4096"),
                (_events(tenant, 4), "application/json", 413, "batch of 4 events > limit of 3"),
                (
                    b"\n".join(json.dumps(e).encode() for e in _events(tenant, 4)),
                    "application/x-ndjson",
                    413,
                    "batch of 4",
                ),
                (b"hello", "text/plain", 415, "unsupported content type"),
                (b"{nope", "application/json", 400, "not JSON"),
                (b"42", "application/json", 400, "got int"),
                (b"[]", "application/json", 400, "no events"),
                (b"\n\n", "application/x-ndjson", 400, "no events"),
            ]
            for body, ctype, status, detail in cases:
                r = _post(client, key, body, ctype)
                assert r.status_code == status, (body, r.text)  # type: ignore[attr-defined]
                assert detail in r.json()["detail"]  # type: ignore[attr-defined]

    def test_rate_limit_per_key(
        self,
        make_settings: Callable[..., Settings],
        start_client: StartClient,
        make_key: Callable[..., str],
        tenant: str,
    ) -> None:
        """Past its burst a key gets 429 with Retry-After, while another key is unaffected."""
        settings = make_settings(gateway_rate_limit_per_s=0.5, gateway_rate_limit_burst=3)
        first, second = make_key(tenant, "read"), make_key(tenant, "read")
        with start_client(settings) as client:
            codes = [
                client.get("/v1/stats", headers={"X-API-Key": first}).status_code for _ in range(5)
            ]
            assert codes == [200, 200, 200, 429, 429]
            r = client.get("/v1/stats", headers={"X-API-Key": first})
            assert r.json() == {"detail": "rate limit exceeded"}
            assert int(r.headers["Retry-After"]) >= 1
            assert r.headers["RateLimit-Limit"] == "3" and r.headers["RateLimit-Remaining"] == "0"
            assert int(r.headers["RateLimit-Reset"]) >= 2  # 3 tokens at 0.5/s
            ok = client.get("/v1/stats", headers={"X-API-Key": second})
            assert ok.status_code == 200
            assert (ok.headers["RateLimit-Limit"], ok.headers["RateLimit-Remaining"]) == ("3", "2")

    def test_failed_auth_limited_per_address(
        self,
        make_settings: Callable[..., Settings],
        start_client: StartClient,
        make_key: Callable[..., str],
        tenant: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Past the failure burst an address gets 429 before any key lookup, for any key."""
        settings = make_settings(gateway_auth_failures_per_s=0.01, gateway_auth_failure_burst=5)
        good = make_key(tenant, "read")
        with start_client(settings) as client:
            lookups: list[str] = []
            verify = client.app.state.keys.verify  # type: ignore[attr-defined]
            monkeypatch.setattr(
                client.app.state.keys,  # type: ignore[attr-defined]
                "verify",
                lambda key: lookups.append(key) or verify(key),
            )
            guesses = [f"wnw_{i:012x}_{'A' * 43}" for i in range(8)]
            codes = [client.get("/v1/stats", headers={"X-API-Key": g}).status_code for g in guesses]
            assert codes == [401] * 5 + [429] * 3
            assert len(lookups) == 5  # the refused guesses cost no database lookup
            r = client.get("/v1/stats", headers={"X-API-Key": good})
            assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
            assert r.json() == {"detail": "too many failed authentications from this address"}

    def test_429_log_line_names_the_key(
        self,
        make_settings: Callable[..., Settings],
        start_client: StartClient,
        make_key: Callable[..., str],
        tenant: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The request log line of a 429 carries the key id (it was `key_id=None`)."""
        settings = make_settings(gateway_rate_limit_per_s=0.01, gateway_rate_limit_burst=1)
        key = make_key(tenant, "read")
        key_id = key.split("_")[1]
        with start_client(settings) as client:
            capsys.readouterr()
            client.get("/v1/stats", headers={"X-API-Key": key})
            assert client.get("/v1/stats", headers={"X-API-Key": key}).status_code == 429
        # Console (key=value) or JSON, on stdout (structlog's defaults) or stderr (Winnow's own
        # configuration): whichever an earlier test left configured.
        captured = capsys.readouterr()
        out = (captured.out + captured.err).splitlines()
        lines = [ln for ln in out if "status=429" in ln or '"status": 429' in ln]
        assert lines and all(
            f"key_id={key_id}" in ln or f'"key_id": "{key_id}"' in ln for ln in lines
        )


def test_kafka_down_is_503(
    make_settings: Callable[..., Settings], make_key: Callable[..., str], tenant: str
) -> None:
    """With no broker the gateway is not ready and refuses events with 503, claiming nothing."""
    from winnow.gateway.app import create_app
    from winnow.kafka.broker import free_port

    settings = make_settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    key = make_key(tenant, "ingest")
    event = _events(tenant, 1)[0]
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"kafka": False, "store": True}
        r = _post(client, key, event)
        assert r.status_code == 503  # type: ignore[attr-defined]
        assert r.json() == {"detail": "Kafka is unavailable"}  # type: ignore[attr-defined]


def test_health_and_metrics(client: TestClient, make_key: Callable[..., str], tenant: str) -> None:
    """`/healthz`, `/readyz` and `/metrics` answer like the other services'."""
    assert client.get("/healthz").json() == {"status": "ok", "service": "gateway"}
    assert client.get("/readyz").json() == {"ready": True, "checks": {"kafka": True, "store": True}}
    _post(client, make_key(tenant), _events(tenant, 1))
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'winnow_gateway_requests_total{route="/v1/events",status="202"}' in metrics.text
    assert "winnow_gateway_events_total" in metrics.text
