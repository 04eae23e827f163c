"""Alert webhooks: Alertmanager v4 payload shape, Slack text, retries against a local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from tests.monitor.helpers import T0

from winnow.monitor.rules import AlertTransition, Severity
from winnow.monitor.webhook import alertmanager_payload, post_json, send_alerts, slack_payload


def transition(status: str = "firing") -> AlertTransition:
    """A high_reject_rate transition."""
    return AlertTransition(
        rule="high_reject_rate",
        severity=Severity.WARNING,
        status=status,  # type: ignore[arg-type]
        labels={},
        value=0.4,
        threshold=0.3,
        started_at=T0,
        ended_at=T0 + timedelta(minutes=5) if status == "resolved" else None,
        summary="40% of examples rejected",
    )


class Receiver:
    """A local HTTP server recording POST bodies; answers the queued status codes first."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.bodies.append(json.loads(body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver that fails once with 503, then accepts."""
    r = Receiver([503])
    yield r
    r.server.shutdown()


class TestPayload:
    def test_alertmanager_v4_shape(self) -> None:
        """The body has Alertmanager v4's fields; a firing alert's endsAt is the zero time."""
        body = alertmanager_payload([transition()], external_url="http://monitor:6066")
        assert body["version"] == "4" and body["status"] == "firing"
        (alert,) = body["alerts"]
        assert alert["status"] == "firing"
        assert alert["labels"] == {
            "alertname": "high_reject_rate",
            "severity": "warning",
            "service": "winnow",
        }
        assert alert["annotations"]["summary"] == "40% of examples rejected"
        assert alert["startsAt"] == "2026-12-01T12:00:00Z"
        assert alert["endsAt"] == "0001-01-01T00:00:00Z"
        assert alert["generatorURL"] == "http://monitor:6066/dashboard"
        assert body["commonLabels"]["alertname"] == "high_reject_rate"

    def test_resolved_has_end(self) -> None:
        """A resolved alert carries its end time and the group status is resolved."""
        body = alertmanager_payload([transition("resolved")])
        assert body["status"] == "resolved"
        assert body["alerts"][0]["endsAt"] == "2026-12-01T12:05:00Z"

    def test_slack_text(self) -> None:
        """The Slack body is one text line naming the rule and status."""
        text = slack_payload([transition()])["text"]
        assert "high_reject_rate" in text and "firing" in text


class TestPost:
    def test_retries_5xx_then_delivers(self, receiver: Receiver) -> None:
        """A 503 is retried; the second attempt is delivered with the same body."""
        assert send_alerts(receiver.url, [transition()])
        assert len(receiver.bodies) == 2
        assert receiver.bodies[0] == receiver.bodies[1]
        assert receiver.bodies[1]["alerts"][0]["labels"]["alertname"] == "high_reject_rate"

    def test_4xx_is_not_retried(self) -> None:
        """A 400 answer is final: one attempt, False."""
        r = Receiver([400])
        try:
            assert post_json(r.url, {"x": 1}, retries=3, backoff_s=0.01) is False
            assert len(r.bodies) == 1
        finally:
            r.server.shutdown()

    def test_unreachable_gives_up(self) -> None:
        """A receiver that is down costs the retries and returns False, never raises."""
        assert (
            post_json("http://127.0.0.1:9/x", {}, retries=1, backoff_s=0.01, timeout_s=1) is False
        )
