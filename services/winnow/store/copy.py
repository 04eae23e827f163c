"""PostgreSQL appends through COPY: rows go into a session temp table, then one INSERT ... SELECT.

Why: ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` runs one statement per row (3,034
rows/s at a batch of 256, 0.16 of COPY, `winnow bench store`). COPY streams the batch in one
command; the ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` that follows keeps the store's
idempotence (a replayed row, or a content hash another event owns, is skipped). The temp table
lives as long as the pooled connection and empties itself at every commit or rollback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table
from sqlalchemy.engine import Connection


def _staging(table: Table) -> str:
    return f"winnow_staging_{table.name}"


def copy_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` skipping existing keys, via COPY into a temp table."""
    if not rows:
        return
    staging = _staging(table)
    # One round trip; the notice "already exists, skipping" is silenced for this transaction.
    conn.exec_driver_sql(
        "SET LOCAL client_min_messages TO warning; "
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} "
        f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    # JSON columns (read from the table, so a new one is never sent as a PostgreSQL array) need
    # their values wrapped; None stays SQL NULL.
    json = {c for c in columns if isinstance(table.c[c].type, JSON)}
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - a pooled connection always has its driver connection
        raise RuntimeError("no driver connection for COPY")
    with raw.cursor() as cur, cur.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [Jsonb(row[c]) if c in json and row[c] is not None else row[c] for c in columns]
            )
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING"
    )
    # Rows stay until commit (ON COMMIT DELETE ROWS): empty now, so a second call in the same
    # transaction does not insert them again.
    conn.exec_driver_sql(f"DELETE FROM {staging}")
