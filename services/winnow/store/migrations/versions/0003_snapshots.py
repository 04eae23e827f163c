"""snapshots: exported datasets and retrain snapshots, keyed by content hash

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=True),
        sa.Column("domains", _JSON, nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("counts", _JSON, nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("manifest", _JSON, nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshots_tenant"), ["tenant"], unique=False)
        batch_op.create_index(batch_op.f("ix_snapshots_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_snapshots_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshots_created_at"))
        batch_op.drop_index(batch_op.f("ix_snapshots_domain"))
        batch_op.drop_index(batch_op.f("ix_snapshots_tenant"))
    op.drop_table("snapshots")
