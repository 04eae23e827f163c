"""Helpdesk exports in: converters from vendors' export / API JSON to ``SupportTicket`` events.

Each converter is pure (records in, events or reasons out); ``winnow ingest --from NAME``
produces the events to the tickets topic and dead-letters the records it could not convert.
"""

from __future__ import annotations

from winnow.sources.common import Converted, Rejected
from winnow.sources.freshdesk import convert_freshdesk
from winnow.sources.intercom import convert_intercom
from winnow.sources.zendesk import convert_zendesk

CONVERTERS = {
    "zendesk": convert_zendesk,
    "intercom": convert_intercom,
    "freshdesk": convert_freshdesk,
}
"""Name (``winnow ingest --from``) -> converter."""

__all__ = [
    "CONVERTERS",
    "Converted",
    "Rejected",
    "convert_freshdesk",
    "convert_intercom",
    "convert_zendesk",
]
