"""Reading stored examples' dedup texts by id prefix: what the curator's duplicate index verifies
its candidates against (``NearDuplicateIndex`` keeps only a 32-bit id prefix per example).

Prefix ranges on the primary key: an index lookup each, whatever the store's size. On PostgreSQL
one fixed statement takes up to 256 ranges as two arrays (prepared once): building and parsing an
OR of 256 ranges cost ~0.1 ms of curator CPU a row, more than the row itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import String, Table, bindparam, func, or_, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from winnow.dedup.index import dedup_text_of
from winnow.events import ChatMessage
from winnow.example import ExampleKind

PREFIXES_PER_QUERY = 256
"""Prefixes per statement (SQLite nests an OR chain no deeper than 1,000)."""
ROWS_PER_PREFIX = 16
"""Most rows read under one 8-hex-digit id prefix: even at 100M stored examples a prefix holds
~0.02 others besides the one asked for."""


def read_dedup_texts(
    conn: Connection, examples: Table, tenant: str, prefixes: list[str]
) -> dict[str, list[str]]:
    """Dedup texts of the tenant's rows of ``examples`` whose id starts with one of
    ``prefixes``, by that prefix (one absent when no id starts with it)."""
    texts: dict[str, list[str]] = {}
    lengths = sorted({len(p) for p in prefixes})
    wanted = set(prefixes)
    for row_id, kind, msgs, chosen, rejected in _rows(conn, examples, tenant, prefixes):
        messages = [ChatMessage(**m) for m in msgs]
        text = dedup_text_of(ExampleKind(kind), messages, chosen, rejected)
        for n in lengths:
            if row_id[:n] in wanted:
                texts.setdefault(row_id[:n], []).append(text)
    return texts


def _rows(conn: Connection, examples: Table, tenant: str, prefixes: list[str]) -> Iterator[Any]:
    """(id, kind, messages, chosen, rejected) of the tenant's rows under the prefixes."""
    c = examples.c
    columns = (c.id, c.kind, c.messages, c.chosen, c.rejected)
    ends = [p[:-1] + chr(ord(p[-1]) + 1) for p in prefixes]
    for i in range(0, len(prefixes), PREFIXES_PER_QUERY):
        lo, hi = prefixes[i : i + PREFIXES_PER_QUERY], ends[i : i + PREFIXES_PER_QUERY]
        if conn.dialect.name != "postgresql":
            ranges_or = or_(*((c.id >= p) & (c.id < e) for p, e in zip(lo, hi, strict=True)))
            yield from conn.execute(select(*columns).where(c.tenant == tenant, ranges_or))
            continue
        text_array = postgresql.ARRAY(String)
        ranges = (
            func.unnest(
                bindparam("lo", lo, type_=text_array), bindparam("hi", hi, type_=text_array)
            )
            .table_valued("lo", "hi")
            .render_derived(name="r")
        )
        # LATERAL ... LIMIT keeps the planner's estimate (and so its cost) small: with a plain
        # join it guessed millions of rows and compiled the query with JIT (~170 ms of server
        # time for 256 one-row index scans).
        under = (
            select(*columns)
            .where(c.tenant == tenant, c.id >= ranges.c.lo, c.id < ranges.c.hi)
            .limit(ROWS_PER_PREFIX)
            .lateral("e")
        )
        yield from conn.execute(select(under).select_from(ranges).join(under, true()))
