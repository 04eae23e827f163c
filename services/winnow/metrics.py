"""Prometheus metrics shared by the services (units in the names, reasons as enum labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("winnow_events_in_total", "Records read from a topic.", ["service", "topic"])
DEAD_LETTERS = Counter(
    "winnow_dead_letters_total", "Records sent to the DLQ, by reason.", ["service", "reason"]
)
CANDIDATES_OUT = Counter(
    "winnow_candidates_total", "Candidate examples produced by the validator.", ["kind"]
)
CURATED = Counter(
    "winnow_examples_curated_total", "Examples accepted into the store.", ["kind", "domain"]
)
DEDUP_CANDIDATES_CAPPED = Counter(
    "winnow_dedup_candidates_capped_total",
    "Examples checked against only the best-matching near-duplicate candidates (the cap cut).",
)
REJECTED = Counter(
    "winnow_examples_rejected_total",
    "Examples rejected, by reason (an example with two reasons counts under both).",
    ["reason"],
)
PROCESSING_SECONDS = Histogram(
    "winnow_processing_seconds",
    "Time to process one batch in a service.",
    ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "winnow_batch_records",
    "Records per processed batch.",
    ["service"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
STORE_WRITE_SECONDS = Histogram(
    "winnow_store_write_seconds", "Time of one store transaction.", ["operation"]
)
STORE_ERRORS = Counter(
    "winnow_store_errors_total", "Store operations that failed and were retried.", ["operation"]
)
READY = Gauge("winnow_ready", "1 when the service is ready to process records.", ["service"])
PII_REDACTED = Counter(
    "winnow_pii_redactions_total", "PII values replaced by placeholders, by type.", ["type"]
)
