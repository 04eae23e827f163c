"""Hostile bodies: lone surrogates, encodings and media types the gateway does not parse.

Each case pins a finding of the adversarial run (issue 19): the gateway's answer for an item must
be what the validator will do with it, and no body may produce a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import has_lone_surrogate, hostile_text

from winnow.events import DeadLetter
from winnow.settings import Settings
from winnow.stages.decode import Coordinates, decode_event
from winnow.testing.fixtures import feedback_event, ticket_event


def _post(client: TestClient, key: str, raw: bytes, **headers: str) -> Any:
    return client.post(
        "/v1/events",
        content=raw,
        headers={"X-API-Key": key, "Content-Type": "application/json", **headers},
    )


class TestLoneSurrogates:
    """A lone UTF-16 surrogate is refused per item with the field, never accepted or a 500."""

    def test_surrogate_id_is_a_refusal_not_a_500(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """`{"id":"\\ud800"}` alone and in an array: 202, the id echoed escaped."""
        key = make_key(tenant, "ingest")
        for raw in (b'{"id":"\\ud800"}', b'[{"id":"\\ud800"}]'):
            r = _post(client, key, raw)
            assert r.status_code == 202, r.text
            [item] = r.json()["rejected"]
            assert item["id"] == "\\ud800" and item["reason"] == "unknown_type"

    def test_surrogate_in_a_field_is_refused_with_its_path(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """A cut emoji next to PII: refused (schema_violation, field named), nothing produced."""
        key = make_key(tenant, "ingest")
        bad = ticket_event("card 4111 1111 1111 1111 \ud83d", "We refunded it.", tenant=tenant)
        good = ticket_event("Where is my order?", "It ships tomorrow.", tenant=tenant)
        r = _post(client, key, json.dumps([bad, good]).encode())
        assert r.status_code == 202
        out = r.json()
        assert out["accepted"] == [good["id"]]
        [item] = out["rejected"]
        assert item["reason"] == "schema_violation"
        assert "data.turns.0.text" in item["error"] and "surrogate" in item["error"]
        assert "4111" not in r.text

    def test_replace_policy_accepts_with_u_fffd(
        self,
        make_settings: Callable[..., Settings],
        start_client: Callable[..., Any],
        make_key: Callable[..., str],
        tenant: str,
    ) -> None:
        """`WINNOW_LONE_SURROGATES=replace`: the same event is accepted (the validator agrees)."""
        key = make_key(tenant, "ingest")
        event = ticket_event("Where is my order? \ud83d", "It ships tomorrow.", tenant=tenant)
        with start_client(make_settings(lone_surrogates="replace")) as client:
            r = _post(client, key, json.dumps(event).encode())
        assert r.status_code == 202 and r.json()["accepted"] == [event["id"]]


SAMPLE = feedback_event("How do I reset it?", "Hold the button for ten seconds.")
FIELDS = [("id",), ("source",), ("data", "prompt"), ("data", "response")]


def _with(event: dict[str, Any], path: tuple[str, ...], text: str) -> dict[str, Any]:
    if len(path) == 1:
        return {**event, path[0]: text}
    return {**event, path[0]: {**event[path[0]], path[1]: text}}


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(st.tuples(st.sampled_from(FIELDS), hostile_text()), min_size=1, max_size=4))
def test_hostile_text_answer_matches_the_validator(
    client: TestClient,
    make_key: Callable[..., str],
    batch: list[tuple[tuple[str, ...], str]],
) -> None:
    """Any text in any field: no 5xx, and each item is accepted exactly when decode accepts it."""
    tenant = SAMPLE["tenant"]
    key = make_key(tenant, "ingest")
    events = [
        _with({**SAMPLE, "id": f"h-{i}-{abs(hash(text))}"}, path, text)
        for i, (path, text) in enumerate(batch)
    ]
    raw_items = [json.dumps(e).encode() for e in events]
    r = _post(client, key, b"\n".join(raw_items), **{"Content-Type": "application/x-ndjson"})
    assert r.status_code in (202, 413), r.text
    if r.status_code == 413:
        return
    out = r.json()
    refused = {item["index"]: item for item in out["rejected"]}
    for index, raw in enumerate(raw_items):
        expected = decode_event(raw, Coordinates(), max_bytes=Settings().max_event_bytes)
        assert (index in refused) == isinstance(expected, DeadLetter)
        if isinstance(expected, DeadLetter):
            assert refused[index]["reason"] == expected.reason
        if has_lone_surrogate(batch[index][1]):
            assert index in refused
    assert not has_lone_surrogate(r.text)


class TestBodiesItDoesNotParse:
    """Encodings and media types the gateway cannot parse are refused whole, with the fix."""

    def test_content_encoding_and_media_types(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """gzip is 415 (not "not JSON"), json-seq is 415, a UTF-16 array is 400 like its object."""
        import gzip

        key = make_key(tenant, "ingest")
        event = ticket_event("Where is my order?", "It ships tomorrow.", tenant=tenant)
        raw = json.dumps(event).encode()
        r = _post(client, key, gzip.compress(raw), **{"Content-Encoding": "gzip"})
        assert r.status_code == 415 and "Content-Encoding" in r.json()["detail"]
        r = _post(client, key, b"\x1e" + raw + b"\n", **{"Content-Type": "application/json-seq"})
        assert r.status_code == 415 and "application/x-ndjson" in r.json()["detail"]
        for doc in (event, [event]):
            r = _post(client, key, json.dumps(doc).encode("utf-16"))
            assert r.status_code == 400 and "not JSON" in r.json()["detail"], r.text
        r = _post(client, key, raw, **{"Content-Encoding": "identity"})
        assert r.status_code == 202 and r.json()["accepted"] == [event["id"]]


def test_all_invalid_with_kafka_down_is_202(
    make_settings: Callable[..., Settings], make_key: Callable[..., str], tenant: str
) -> None:
    """Nothing valid to produce: per-item refusals (202), even with no broker at all."""
    from winnow.gateway.app import create_app
    from winnow.kafka.broker import free_port

    settings = make_settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    key = make_key(tenant, "ingest")
    with TestClient(create_app(settings)) as client:
        r = _post(client, key, b'[{"id":"a"},{"id":"b","type":"nope"}]')
    assert r.status_code == 202, r.text
    assert [i["id"] for i in r.json()["rejected"]] == ["a", "b"]
