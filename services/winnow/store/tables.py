"""Store tables. Change them only together with an Alembic revision in ``migrations/versions``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JsonColumn = JSON().with_variant(JSONB(), "postgresql")


class ExampleRow(SQLModel, table=True):
    """An accepted example. The primary key is its content hash, so writes are idempotent."""

    __tablename__ = "examples"

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=16)
    domain: str | None = Field(default=None, index=True, max_length=64)
    provenance: str = Field(max_length=200)
    messages: list[dict[str, Any]] = Field(sa_column=Column(JsonColumn, nullable=False))
    chosen: str | None = Field(default=None, sa_column=Column(Text))
    rejected: str | None = Field(default=None, sa_column=Column(Text))
    language: str | None = Field(default=None, max_length=16)
    csat: int | None = None
    category: str | None = Field(default=None, max_length=100)
    scores: dict[str, float] = Field(sa_column=Column(JsonColumn, nullable=False))
    turn_scores: list[dict[str, Any]] | None = Field(
        default=None,
        sa_column=Column(JsonColumn, nullable=True),
        description="Per-turn scores of a support conversation's substantive agent turns.",
    )
    flags: list[str] = Field(sa_column=Column(JsonColumn, nullable=False))
    model_versions: dict[str, str] = Field(sa_column=Column(JsonColumn, nullable=False))
    source_event_id: str = Field(index=True, max_length=200)
    source_event_type: str = Field(max_length=100)
    source_topic: str | None = Field(default=None, max_length=249)
    source_partition: int | None = None
    source_offset: int | None = None
    source_fanout: int = 1
    source_index: int = 0
    event_time: datetime
    created_at: datetime
    stored_at: datetime = Field(index=True)
    dedup_sig: bytes | None = Field(
        default=None,
        sa_column=Column(LargeBinary, nullable=True),
        description="Dedup keys (normalised-text hash, LSH band hashes) to rebuild the index.",
    )
    redactions: dict[str, int] | None = Field(
        default=None,
        sa_column=Column(JsonColumn, nullable=True),
        description="PII hits per type the validator redacted (for export reports).",
    )


class RejectionRow(SQLModel, table=True):
    """A rejected example with its reasons; keyed by (tenant, event id, index) for idempotence."""

    __tablename__ = "rejections"

    id: str = Field(primary_key=True, max_length=64)
    example_id: str = Field(index=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=16)
    domain: str | None = Field(default=None, max_length=64)
    provenance: str = Field(max_length=200)
    reasons: list[str] = Field(sa_column=Column(JsonColumn, nullable=False))
    scores: dict[str, float] = Field(sa_column=Column(JsonColumn, nullable=False))
    example: dict[str, Any] = Field(sa_column=Column(JsonColumn, nullable=False))
    source_event_id: str = Field(index=True, max_length=200)
    source_fanout: int = 1
    source_index: int = 0
    rejected_at: datetime = Field(index=True)


class DeadLetterRow(SQLModel, table=True):
    """A record that could not be processed, with its original bytes for replay."""

    __tablename__ = "dead_letters"

    id: str = Field(primary_key=True, max_length=64)
    reason: str = Field(index=True, max_length=32)
    error: str = Field(sa_column=Column(Text, nullable=False))
    stage: str = Field(max_length=16)
    original: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    topic: str | None = Field(default=None, max_length=249)
    partition: int | None = None
    offset: int | None = None
    event_id: str | None = Field(default=None, max_length=200)
    tenant: str | None = Field(default=None, max_length=64)
    failed_at: datetime = Field(index=True)


class SnapshotRow(SQLModel, table=True):
    """An exported dataset snapshot; the key is the content hash of its files (its manifest id)."""

    __tablename__ = "snapshots"

    id: str = Field(primary_key=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    domain: str | None = Field(
        default=None, index=True, max_length=64, description="Set when one domain was exported."
    )
    domains: list[str] = Field(sa_column=Column(JsonColumn, nullable=False))
    purpose: str = Field(max_length=16, description="`export` (by hand) or `retrain` (trigger).")
    format: str = Field(max_length=16)
    counts: dict[str, int] = Field(sa_column=Column(JsonColumn, nullable=False))
    examples: int
    tokens: int
    watermark: datetime | None = Field(
        default=None, description="Latest `stored_at` among the exported examples."
    )
    manifest: dict[str, Any] = Field(sa_column=Column(JsonColumn, nullable=False))
    path: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(index=True)
    superseded_by: str | None = Field(
        default=None,
        max_length=64,
        description="Id of the erasure that removed examples this snapshot may hold: the next "
        "export supersedes it, and it should not be trained on again.",
    )


class PiiSubjectRow(SQLModel, table=True):
    """A keyed hash of an identifier removed from a stored example, rejection or dead letter."""

    __tablename__ = "pii_subjects"

    subject: str = Field(primary_key=True, max_length=64, description="`type:hmac`.")
    kind: str = Field(primary_key=True, max_length=16, description="example, rejection, dlq.")
    ref_id: str = Field(primary_key=True, index=True, max_length=64)
    tenant: str | None = Field(default=None, max_length=64)
    recorded_at: datetime


class ErasureRow(SQLModel, table=True):
    """One `winnow erase`: which subject hashes, how many rows went, which snapshots it marked."""

    __tablename__ = "erasures"

    id: str = Field(primary_key=True, max_length=64)
    subjects: list[str] = Field(sa_column=Column(JsonColumn, nullable=False))
    counts: dict[str, int] = Field(sa_column=Column(JsonColumn, nullable=False))
    snapshots: list[str] = Field(sa_column=Column(JsonColumn, nullable=False))
    requested_by: str | None = Field(default=None, max_length=200)
    erased_at: datetime


class ApiKeyRow(SQLModel, table=True):
    """A gateway API key: only its salted (and peppered) hash is stored, never the key."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32, description="Public key id (lookup).")
    tenant: str = Field(index=True, max_length=64)
    scopes: list[str] = Field(sa_column=Column(JsonColumn, nullable=False))
    salt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    secret_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    name: str | None = Field(default=None, max_length=200)
    created_at: datetime
    revoked_at: datetime | None = Field(default=None)


class AcceptedEventRow(SQLModel, table=True):
    """An event id the gateway accepted, so a redelivery within the dedup window is not resent."""

    __tablename__ = "accepted_events"

    tenant: str = Field(primary_key=True, max_length=64)
    event_id: str = Field(primary_key=True, max_length=64, description="sha256 of the event id.")
    accepted_at: datetime = Field(index=True)


class ValidationRunRow(SQLModel, table=True):
    """One Great Expectations suite run on one monitor window."""

    __tablename__ = "validation_runs"

    id: str = Field(primary_key=True, max_length=64, description="sha256 of suite and window.")
    suite: str = Field(index=True, max_length=200)
    window_start: datetime
    window_end: datetime = Field(index=True)
    rows: int
    success: bool
    evaluated: int
    failed: int
    failures: list[dict[str, Any]] = Field(sa_column=Column(JsonColumn, nullable=False))
    duration_ms: float
    created_at: datetime


class AlertRow(SQLModel, table=True):
    """A data-quality alert: written when it fires, updated when it resolves."""

    __tablename__ = "alerts"

    id: str = Field(primary_key=True, max_length=64, description="Fingerprint + start, hashed.")
    fingerprint: str = Field(index=True, max_length=32)
    rule: str = Field(index=True, max_length=100)
    severity: str = Field(max_length=16)
    status: str = Field(index=True, max_length=16, description="firing or resolved.")
    labels: dict[str, str] = Field(sa_column=Column(JsonColumn, nullable=False))
    value: float
    threshold: float
    summary: str = Field(sa_column=Column(Text, nullable=False))
    started_at: datetime = Field(index=True)
    ended_at: datetime | None = None
    updated_at: datetime
