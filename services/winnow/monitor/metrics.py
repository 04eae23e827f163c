"""The monitor's Prometheus gauges (the shared counters live in ``winnow.metrics``)."""

from __future__ import annotations

from prometheus_client import Gauge

ALERTS_ACTIVE = Gauge(
    "winnow_alerts_active", "1 while a data-quality alert fires.", ["rule", "severity"]
)
WINDOW_ACCEPT_RATIO = Gauge(
    "winnow_window_accept_ratio",
    "Curated share of the last window's examples.",
    ["tenant", "domain"],
)
WINDOW_EVENTS = Gauge(
    "winnow_window_events", "Records in the last window, by outcome.", ["outcome"]
)
DRIFT_PSI = Gauge(
    "winnow_drift_psi", "PSI of the last window against the reference window.", ["metric"]
)
GE_FAILED = Gauge(
    "winnow_ge_failed_expectations",
    "Failed Great Expectations expectations in the last window's run.",
    ["suite"],
)
GE_SECONDS = Gauge(
    "winnow_ge_validation_seconds", "Duration of the last window's suite run.", ["suite"]
)
SOURCE_SILENT_SECONDS = Gauge(
    "winnow_source_silent_seconds", "Seconds since the last record of a source.", ["source"]
)
