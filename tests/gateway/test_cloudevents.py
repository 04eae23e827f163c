"""`POST /v1/events` speaks the CloudEvents HTTP binding: binary and structured content modes,
produced by the reference SDK (its `cloudevents.core` API) as the client would send them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from fastapi.testclient import TestClient
from tests.gateway.test_ingest import _drain

from winnow.settings import Settings
from winnow.testing.fixtures import ticket_event

QUESTION = "I was charged twice this month, I want my money back."
ANSWER = "I've refunded the second charge; it will be back on your card within five days."


def sdk_event(
    tenant: str, *, rename: bool = False, question: str = QUESTION, answer: str = ANSWER
) -> CloudEvent:
    """A support-ticket CloudEvent as a helpdesk would build it with the SDK.

    ``rename`` renames a field of ``data`` (``turns`` -> ``conversation``): a schema violation.
    """
    data = ticket_event(question, answer)["data"]
    if rename:
        data["conversation"] = data.pop("turns")
    attributes = {
        "type": "winnow.support_ticket.v1",
        "source": "https://helpdesk.example.com/tickets",
        "tenant": tenant,
        "datacontenttype": "application/json",
        # Percent-encoded in binary mode (space, non-ASCII): the gateway decodes it.
        "subject": f"Ticket {data['ticket_id']} — café",
    }
    return CloudEvent(attributes, data)


def post(client: TestClient, key: str, message: ce_http.HTTPMessage) -> Any:
    """Send an SDK HTTP message as it is (its headers, its body) with the API key."""
    return client.post(
        "/v1/events", content=message.body, headers={**message.headers, "X-API-Key": key}
    )


class TestContentModes:
    def test_binary_and_structured_events_are_produced_as_the_sdk_event(
        self,
        client: TestClient,
        settings: Settings,
        make_key: Callable[..., str],
        tenant: str,
    ) -> None:
        """Both modes are accepted; each Kafka value is the structured event the SDK reads back
        with the same attributes (extension and percent-encoded subject included) and data."""
        key = make_key(tenant, "ingest")
        events = [sdk_event(tenant), sdk_event(tenant)]
        messages = [ce_http.to_binary_event(events[0]), ce_http.to_structured_event(events[1])]
        assert "ce-specversion" in messages[0].headers
        assert messages[1].headers["content-type"].startswith("application/cloudevents+json")
        for event, message in zip(events, messages, strict=True):
            answer = post(client, key, message)
            assert answer.status_code == 202, answer.text
            assert answer.json()["accepted"] == [event.get_id()]
        produced = {k.decode(): v for _, k, v in asyncio.run(_drain(settings, 2))}
        for event in events:
            back = ce_http.from_structured_event(
                ce_http.HTTPMessage(
                    {"content-type": "application/cloudevents+json"}, produced[event.get_id()]
                )
            )
            assert back.get_attributes() == event.get_attributes()
            assert back.get_data() == event.get_data()

    def test_a_renamed_data_field_is_refused_in_both_modes(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """The envelope is lenient, `data` is not: a renamed field is a schema violation."""
        key = make_key(tenant, "ingest")
        for to_message in (ce_http.to_binary_event, ce_http.to_structured_event):
            answer = post(client, key, to_message(sdk_event(tenant, rename=True)))
            assert answer.status_code == 202, answer.text
            body = answer.json()
            assert body["accepted"] == []
            assert [r["reason"] for r in body["rejected"]] == ["schema_violation"]

    def test_binary_mode_without_its_required_attributes_is_refused_per_item(
        self, client: TestClient, make_key: Callable[..., str], tenant: str
    ) -> None:
        """`ce-specversion` alone makes a binary-mode request; missing `ce-type` is refused with
        the validator's reason, not a server error."""
        message = ce_http.to_binary_event(sdk_event(tenant))
        headers = {k: v for k, v in message.headers.items() if k != "ce-type"}
        answer = post(
            client, make_key(tenant, "ingest"), ce_http.HTTPMessage(headers, message.body)
        )
        assert answer.status_code == 202, answer.text
        assert [r["reason"] for r in answer.json()["rejected"]] in (
            ["schema_violation"],
            ["unknown_type"],
        )
