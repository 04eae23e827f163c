"""Which source a dead letter is counted under in `winnow status`."""

from __future__ import annotations

import pytest

from winnow.store.accounting import IMPORTED, UNKNOWN, source_of_topic


@pytest.mark.parametrize(
    ("topic", "source"),
    [
        ("winnow.sources.tickets", "tickets"),
        ("winnow.sources.feedback", "feedback"),
        # `winnow ingest --from zendesk` dead-letters unconvertible records at import.
        ("zendesk:export.json", IMPORTED),
        ("freshdesk:tickets.json", IMPORTED),
        ("winnow.candidates", UNKNOWN),
        (None, UNKNOWN),
    ],
)
def test_dead_letters_are_counted_under_their_source(topic: str | None, source: str) -> None:
    assert source_of_topic(topic, "winnow") == source
