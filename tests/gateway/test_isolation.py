"""Tenant isolation: tenant A's key never reads, counts or exports tenant B's examples."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from winnow.example import Decision, Example
from winnow.export.exporter import export_snapshot
from winnow.export.formats import ExportFormat
from winnow.export.tokens import CharTokenCounter
from winnow.store.queries import ExampleQuery, count_examples, domain_counts, iter_examples
from winnow.store.store import ExampleStore
from winnow.testing.examples import make_example


def _example(tenant: str, question: str, answer: str, domain: str = "billing") -> Example:
    return make_example(
        question,
        answer,
        tenant=tenant,
        domain=domain,
        scores={"reward": 0.9, "relevance": 0.5},
        model_versions={},
        decision=Decision(status="accepted"),
        event_time=datetime(2026, 11, 1, 12, tzinfo=UTC),
    )


@pytest.fixture
def two_tenants(gateway_db: str) -> tuple[str, str]:
    """Tenants A and B with two examples each, the same question in both."""
    # Letters only: the export re-scans text for PII, and a hex run reads as an account id.
    a, b = (f"{x}-{''.join(random.choices(string.ascii_lowercase, k=8))}" for x in "ab")
    store = ExampleStore(gateway_db)
    try:
        out = store.write_decisions(
            [
                _example(a, "How do I get a refund?", f"A answer one {a}"),
                _example(a, "Where is my parcel?", f"A answer two {a}", "shipping"),
                _example(b, "How do I get a refund?", f"B secret answer {b}"),
                _example(b, "Can I change my plan?", f"B secret answer two {b}", "plans"),
            ]
        )
        assert len(out.accepted) == 4
    finally:
        store.close()
    return a, b


class TestStoreQueries:
    """Every read query takes the tenant and returns that tenant's rows only."""

    def test_queries_are_scoped(self, gateway_db: str, two_tenants: tuple[str, str]) -> None:
        """Examples, counts and per-domain counts of A hold nothing of B."""
        a, b = two_tenants
        store = ExampleStore(gateway_db)
        try:
            rows = list(iter_examples(store, ExampleQuery(a)))
            assert {r.example.tenant for r in rows} == {a} and len(rows) == 2
            assert {(c.tenant, c.domain) for c in domain_counts(store, a)} == {
                (a, "billing"),
                (a, "shipping"),
            }
            assert count_examples(store, a, "plans", after=None) == 0
            assert count_examples(store, b, "plans", after=None) == 1
        finally:
            store.close()

    def test_export_snapshot_is_scoped(
        self, gateway_db: str, two_tenants: tuple[str, str], tmp_path: Path
    ) -> None:
        """A file export of A holds none of B's texts."""
        a, b = two_tenants
        store = ExampleStore(gateway_db)
        try:
            result = export_snapshot(
                store,
                ExampleQuery(a),
                ExportFormat.OPENAI_CHAT,
                tmp_path / "out",
                counter=CharTokenCounter(),
            )
        finally:
            store.close()
        text = "".join(p.read_text() for p in (tmp_path / "out").rglob("*.jsonl"))
        assert result.manifest["counts"]["examples"] == 2
        assert a in text and b not in text


class TestApi:
    """The HTTP reads take the tenant from the key."""

    def test_key_of_a_sees_only_a(
        self, client: TestClient, make_key: Callable[..., str], two_tenants: tuple[str, str]
    ) -> None:
        """A's key reads, counts and exports A's examples and refuses to name B."""
        a, b = two_tenants
        headers = {"X-API-Key": make_key(a, "read,export")}
        examples = client.get("/v1/examples", headers=headers).json()
        assert sorted(e["tenant"] for e in examples) == [a, a]
        stats = client.get("/v1/stats", headers=headers).json()
        assert sorted((s["domain"], s["examples"]) for s in stats) == [
            ("billing", 1),
            ("shipping", 1),
        ]
        export = client.get("/v1/export", headers=headers)
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(x) for x in export.text.splitlines()]
        assert len(lines) == 2 and a in export.text and b not in export.text
        for path in ("/v1/examples", "/v1/stats", "/v1/export"):
            r = client.get(path, params={"tenant": b}, headers=headers)
            assert r.status_code == 403 and b not in r.text

    def test_key_of_b_sees_only_b(
        self, client: TestClient, make_key: Callable[..., str], two_tenants: tuple[str, str]
    ) -> None:
        """The mirror image: B's key never returns A's rows."""
        a, b = two_tenants
        headers = {"X-API-Key": make_key(b, "read,export")}
        assert a not in client.get("/v1/examples", headers=headers).text
        assert a not in client.get("/v1/export", headers=headers).text
        assert b in client.get("/v1/export", headers=headers).text


def test_min_reward_refuses_nan_and_infinities(
    client: TestClient, make_key: Callable[..., str], two_tenants: tuple[str, str]
) -> None:
    """`nan` silently disabled the reward filter and `-1e309` parsed as -inf: both are 422 now."""
    a, _ = two_tenants
    headers = {"X-API-Key": make_key(a, "export")}
    for value in ("nan", "NaN", "inf", "-Infinity", "-1e309", "1e309"):
        r = client.get("/v1/export", params={"min_reward": value}, headers=headers)
        assert r.status_code == 422, (value, r.text)
        assert r.json()["detail"][0]["loc"] == ["query", "min_reward"]
    assert (
        client.get("/v1/export", params={"min_reward": "0.5"}, headers=headers).status_code == 200
    )
