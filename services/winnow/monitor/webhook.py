"""Alert webhooks: Alertmanager v4 JSON (the default) or a Slack-style ``{"text": ...}`` body.

Posts with a timeout and retries with back-off; a receiver that stays down is logged, never
raised: alerts also go to the alerts topic, the store and Prometheus.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import structlog

from winnow.backoff import Backoff
from winnow.monitor.rules import AlertTransition

log = structlog.get_logger(__name__)
ZERO_TIME = "0001-01-01T00:00:00Z"
"""Alertmanager's "not ended" ``endsAt``."""


def _iso(t: datetime | None) -> str:
    return t.isoformat().replace("+00:00", "Z") if t else ZERO_TIME


def alert_labels(t: AlertTransition) -> dict[str, str]:
    """Prometheus-style labels of an alert: alertname, severity, service and its own labels."""
    return {"alertname": t.rule, "severity": t.severity.value, "service": "winnow", **t.labels}


def alertmanager_payload(
    transitions: Sequence[AlertTransition], *, external_url: str = "", receiver: str = "winnow"
) -> dict[str, Any]:
    """An Alertmanager webhook (version 4) body holding the given alerts."""
    alerts = [
        {
            "status": t.status,
            "labels": alert_labels(t),
            "annotations": {
                "summary": t.summary,
                "description": f"{t.rule}: value {t.value:.4g}, threshold {t.threshold:g}",
                "value": f"{t.value:.6g}",
            },
            "startsAt": _iso(t.started_at),
            "endsAt": _iso(t.ended_at),
            "generatorURL": f"{external_url}/dashboard" if external_url else "",
            "fingerprint": t.fingerprint,
        }
        for t in transitions
    ]
    common = (
        set.intersection(*(set(alert_labels(t).items()) for t in transitions))
        if transitions
        else set()
    )
    return {
        "version": "4",
        "groupKey": '{}:{alertname=~"winnow.*"}',
        "truncatedAlerts": 0,
        "status": "firing" if any(t.status == "firing" for t in transitions) else "resolved",
        "receiver": receiver,
        "groupLabels": {},
        "commonLabels": dict(sorted(common)),
        "commonAnnotations": {},
        "externalURL": external_url,
        "alerts": alerts,
    }


def slack_payload(transitions: Sequence[AlertTransition]) -> dict[str, Any]:
    """A Slack incoming-webhook body: one line per alert."""
    icon = {"firing": ":red_circle:", "resolved": ":large_green_circle:"}
    lines = [
        f"{icon[t.status]} *{t.rule}* [{t.severity.value}] {t.status}: {t.summary}"
        for t in transitions
    ]
    return {"text": "\n".join(lines)}


def post_json(
    url: str,
    payload: dict[str, Any],
    *,
    timeout_s: float = 5.0,
    retries: int = 3,
    backoff_s: float = 0.5,
) -> bool:
    """POST JSON; retry on network errors and 5xx/429 answers. True once a 2xx came back."""
    body = json.dumps(payload).encode()
    backoff = Backoff(base_s=backoff_s, max_s=30.0)
    for attempt in range(retries + 1):
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                if 200 <= response.status < 300:
                    return True
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            if status < 500 and status != 429:
                log.warning("alert_webhook_refused", status=status)
                return False
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            status = None
            log.warning("alert_webhook_unreachable", error=type(exc).__name__, attempt=attempt)
        if attempt < retries:
            time.sleep(backoff.next())
    log.warning("alert_webhook_gave_up", status=status, attempts=retries + 1)
    return False


def send_alerts(
    url: str,
    transitions: Sequence[AlertTransition],
    *,
    fmt: Literal["alertmanager", "slack"] = "alertmanager",
    external_url: str = "",
    timeout_s: float = 5.0,
    retries: int = 3,
) -> bool:
    """Send the transitions to one webhook in the chosen format (blocking: run it in a thread)."""
    if not transitions:
        return True
    payload = (
        slack_payload(transitions)
        if fmt == "slack"
        else alertmanager_payload(transitions, external_url=external_url)
    )
    return post_json(url, payload, timeout_s=timeout_s, retries=retries)
