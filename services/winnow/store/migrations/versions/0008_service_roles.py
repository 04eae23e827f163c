"""service roles: what the gateway and the monitor may read and write (PostgreSQL only)

Two group roles (NOLOGIN) for the services that only need part of the store; a deployment creates
one login per service in its role (docs/deploy.md) and gives the curator and the migration job
the owner's URL. Neither role can read dead letters' contents (original, unredacted bytes, error,
ids): the monitor may count them by reason and time, the gateway not at all.

Roles are cluster-wide: created when missing, never dropped (another database may use them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GATEWAY = "winnow_gateway"
MONITOR = "winnow_monitor"
GRANTS: dict[str, list[str]] = {
    GATEWAY: [
        "GRANT SELECT ON api_keys, examples TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON accepted_events TO {role}",
    ],
    MONITOR: [
        "GRANT SELECT ON examples, rejections, snapshots TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON validation_runs, alerts TO {role}",
        # Counts by reason and time for alerts and the dashboard; not the bytes, error or ids.
        "GRANT SELECT (id, reason, stage, failed_at) ON dead_letters TO {role}",
    ],
}
TABLES = (
    "examples, rejections, dead_letters, snapshots, api_keys, accepted_events, validation_runs, "
    "alerts"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for role, grants in GRANTS.items():
        op.execute(
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )
        op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        for grant in grants:
            op.execute(grant.format(role=role))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for role in GRANTS:
        op.execute(f"REVOKE ALL ON {TABLES} FROM {role}")
        op.execute(f"REVOKE ALL (id, reason, stage, failed_at) ON dead_letters FROM {role}")
