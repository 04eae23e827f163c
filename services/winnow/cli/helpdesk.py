"""``winnow ingest --from zendesk|intercom|freshdesk FILE``: a helpdesk export converted into
Kafka records."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from winnow.reasons import DeadLetterReason
from winnow.sources import CONVERTERS, Converted
from winnow.sources.common import read_records
from winnow.stages.decode import Coordinates, dead_letter
from winnow.topics import TopicLayout


class Helpdesk(StrEnum):
    """Helpdesk export formats ``winnow ingest --from`` reads."""

    zendesk = "zendesk"
    intercom = "intercom"
    freshdesk = "freshdesk"


RECORDS_KEY = {
    Helpdesk.zendesk: "tickets",
    Helpdesk.intercom: "conversations",
    Helpdesk.freshdesk: "tickets",
}
"""The list holding the records in each vendor's export document."""


@dataclass
class HelpdeskBatch:
    """Kafka records of one export: converted tickets, then dead letters for the rest."""

    records: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    converted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


def helpdesk_records(
    path: Path,
    helpdesk: Helpdesk,
    layout: TopicLayout,
    *,
    tenant: str,
    category_field: str | None = None,
) -> HelpdeskBatch:
    """Convert every record of ``path``; a record that fails becomes a dead letter (reason kept)."""
    convert = CONVERTERS[helpdesk.value]
    topic = layout.source("tickets")
    batch = HelpdeskBatch()
    for n, (record, side) in enumerate(read_records(path, RECORDS_KEY[helpdesk])):
        out = convert(record, side, tenant=tenant, category_field=category_field)
        if isinstance(out, Converted):
            key = str(out.event["id"]).encode()
            batch.records.append((topic, key, json.dumps(out.event, ensure_ascii=False).encode()))
            batch.converted += 1
            continue
        letter = dead_letter(
            out.original,
            # The record's place in the file stands in for an offset: re-ingesting collapses.
            Coordinates(f"{helpdesk.value}:{path.name}", None, n),
            DeadLetterReason.SCHEMA_VIOLATION,
            out.error,
            stage="validator",
            event_id=out.record_id,
            tenant=tenant,
        )
        batch.records.append((layout.dlq, letter.id.encode(), letter.model_dump_json().encode()))
        batch.rejected[out.error.split(": ", 1)[-1][:60]] += 1
    return batch
