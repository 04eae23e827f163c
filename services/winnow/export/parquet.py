"""The Parquet writer: one explicit schema, so files are byte-identical for the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("domain", pa.string()),
        ("messages", pa.list_(_MESSAGE)),
        ("message_weights", pa.list_(pa.int8())),
        ("chosen", pa.string()),
        ("rejected", pa.string()),
        ("provenance", pa.string()),
        ("language", pa.string()),
        ("category", pa.string()),
        ("csat", pa.int32()),
        ("scores", pa.map_(pa.string(), pa.float64())),
        ("flags", pa.list_(pa.string())),
        ("model_versions", pa.map_(pa.string(), pa.string())),
        ("source_event_id", pa.string()),
        ("source_event_type", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
    ]
)


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` (see ``formats.parquet_row``) to ``path`` with zstd compression."""
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    pq.write_table(table, path, compression="zstd", row_group_size=65_536)


def read_parquet(path: Path) -> list[dict[str, Any]]:
    """Rows of a Parquet export, for tests and checks."""
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows
