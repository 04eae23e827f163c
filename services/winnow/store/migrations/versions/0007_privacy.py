"""privacy: subject index for erasure, erasure log, superseded snapshots, ingest redaction counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pii_subjects",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", "kind", "ref_id"),
    )
    with op.batch_alter_table("pii_subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pii_subjects_ref_id"), ["ref_id"], unique=False)
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("subjects", _JSON, nullable=False),
        sa.Column("counts", _JSON, nullable=False),
        sa.Column("snapshots", _JSON, nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("redactions", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.drop_column("redactions")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_column("superseded_by")
    op.drop_table("erasures")
    with op.batch_alter_table("pii_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pii_subjects_ref_id"))
    op.drop_table("pii_subjects")
