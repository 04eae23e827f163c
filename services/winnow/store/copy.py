"""PostgreSQL appends through COPY.

Why: ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` runs one statement per row (3,034
rows/s at a batch of 256, 0.16 of COPY, `winnow bench store`). COPY streams the batch in one
command.

Two ways in. :func:`copy_rows` COPYs straight into the table: the fast path, for rows the
caller has just looked up and found absent (the store does, in the same transaction). A row
another writer stored in between (a second curator replica) makes the COPY fail on the unique
key; the caller then redoes its transaction with :func:`copy_insert`: COPY into a session temp
table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, which waits for that writer
and skips its rows (the store's idempotence). The temp table lives as long as the pooled
connection and empties itself at every commit or rollback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table
from sqlalchemy.engine import Connection


def _staging(table: Table) -> str:
    return f"winnow_staging_{table.name}"


def copy_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], into: str = ""
) -> None:
    """COPY ``rows`` into ``into`` (default: ``table`` itself); a key already there fails the
    COPY (psycopg ``UniqueViolation``) and with it the transaction."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    # JSON columns (read from the table, so a new one is never sent as a PostgreSQL array) need
    # their values wrapped; None stays SQL NULL.
    json = [isinstance(table.c[c].type, JSON) for c in columns]
    raw = conn.connection.driver_connection
    if raw is None:  # pragma: no cover - a pooled connection always has its driver connection
        raise RuntimeError("no driver connection for COPY")
    with raw.cursor() as cur, cur.copy(f"COPY {into or table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    Jsonb(v) if j and v is not None else v
                    for v, j in zip(row.values(), json, strict=True)
                ]
            )


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
    copy_rows(conn, table, rows, into=staging)
    names = ", ".join(f'"{c}"' for c in rows[0])
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING"
    )
    # Rows stay until commit (ON COMMIT DELETE ROWS): empty now, so a second call in the same
    # transaction does not insert them again.
    conn.exec_driver_sql(f"DELETE FROM {staging}")
