"""shared dedup index: examples.dedup_txn, the writing transaction of each row (PostgreSQL only)

Several curator replicas on one tenant keep their in-memory duplicate indexes exact by reading
the rows the others wrote since their last read (``winnow.store.dedup_shared``). The transaction
id says which rows those are: a replica remembers the oldest transaction still running at its
last read (``pg_snapshot_xmin``), and every row written by that transaction or a later one may be
new to it. The column is filled by its default, so no writer names it; rows stored before this
revision keep NULL (a replica's start-up rebuild covers them).

Adding a nullable column and then a default changes no existing row (no table rewrite).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite is the single-process store: one curator, no shared index
    op.execute("ALTER TABLE examples ADD COLUMN dedup_txn bigint")
    op.execute(
        "ALTER TABLE examples ALTER COLUMN dedup_txn SET DEFAULT pg_current_xact_id()::text::bigint"
    )
    op.execute(
        "CREATE INDEX ix_examples_dedup_txn ON examples (dedup_txn) WHERE dedup_sig IS NOT NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_examples_dedup_txn")
    op.execute("ALTER TABLE examples DROP COLUMN IF EXISTS dedup_txn")
