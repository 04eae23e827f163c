"""Prometheus metrics of the gateway (no key, tenant secret or payload in any label)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "winnow_gateway_requests_total", "HTTP requests by route and status.", ["route", "status"]
)
EVENTS = Counter(
    "winnow_gateway_events_total",
    "Events in ingestion requests by outcome (accepted, duplicate, rejected).",
    ["outcome"],
)
AUTH_FAILURES = Counter(
    "winnow_gateway_auth_failures_total", "Refused requests by reason.", ["reason"]
)
REQUEST_SECONDS = Histogram(
    "winnow_gateway_request_seconds", "Time to answer one request.", ["route"]
)
