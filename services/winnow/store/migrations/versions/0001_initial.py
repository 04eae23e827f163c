"""initial store: examples, rejections, dead letters

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables and their indexes."""
    _dead_letters()
    _examples()
    _rejections()


def _dead_letters() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("original", sa.LargeBinary(), nullable=False),
        sa.Column("topic", sa.String(length=249), nullable=True),
        sa.Column("partition", sa.Integer(), nullable=True),
        sa.Column("offset", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=200), nullable=True),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_failed_at"), ["failed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dead_letters_reason"), ["reason"], unique=False)


def _examples() -> None:
    op.create_table(
        "examples",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=True),
        sa.Column("provenance", sa.String(length=200), nullable=False),
        sa.Column(
            "messages", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("chosen", sa.Text(), nullable=True),
        sa.Column("rejected", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column(
            "scores", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "flags", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "model_versions",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("source_event_id", sa.String(length=200), nullable=False),
        sa.Column("source_event_type", sa.String(length=100), nullable=False),
        sa.Column("source_topic", sa.String(length=249), nullable=True),
        sa.Column("source_partition", sa.Integer(), nullable=True),
        sa.Column("source_offset", sa.Integer(), nullable=True),
        sa.Column("source_fanout", sa.Integer(), nullable=False),
        sa.Column("source_index", sa.Integer(), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_examples_domain"), ["domain"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_examples_source_event_id"), ["source_event_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_examples_stored_at"), ["stored_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_examples_tenant"), ["tenant"], unique=False)


def _rejections() -> None:
    op.create_table(
        "rejections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("example_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=True),
        sa.Column("provenance", sa.String(length=200), nullable=False),
        sa.Column(
            "reasons", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "scores", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "example", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("source_event_id", sa.String(length=200), nullable=False),
        sa.Column("source_fanout", sa.Integer(), nullable=False),
        sa.Column("source_index", sa.Integer(), nullable=False),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rejections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejections_example_id"), ["example_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rejections_rejected_at"), ["rejected_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rejections_source_event_id"), ["source_event_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rejections_tenant"), ["tenant"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejections_tenant"))
        batch_op.drop_index(batch_op.f("ix_rejections_source_event_id"))
        batch_op.drop_index(batch_op.f("ix_rejections_rejected_at"))
        batch_op.drop_index(batch_op.f("ix_rejections_example_id"))

    op.drop_table("rejections")
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_examples_tenant"))
        batch_op.drop_index(batch_op.f("ix_examples_stored_at"))
        batch_op.drop_index(batch_op.f("ix_examples_source_event_id"))
        batch_op.drop_index(batch_op.f("ix_examples_domain"))

    op.drop_table("examples")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_reason"))
        batch_op.drop_index(batch_op.f("ix_dead_letters_failed_at"))

    op.drop_table("dead_letters")
