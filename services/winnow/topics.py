"""The topic layout: every topic Winnow reads or writes, named from one prefix.

| topic                      | key         | value                               |
|----------------------------|-------------|-------------------------------------|
| <prefix>.sources.<name>    | event id    | a source event envelope (JSON)      |
| <prefix>.candidates        | example id  | an ``Example`` before scoring       |
| <prefix>.scored            | tenant [1]  | an ``Example`` with scores          |
| <prefix>.curated           | example id  | an accepted ``Example``             |
| <prefix>.rejected          | example id  | a rejected ``Example`` with reasons |
| <prefix>.dlq               | record id   | a ``DeadLetter``                    |
| <prefix>.alerts            | alert id    | a data-quality alert                |
| <prefix>.retrain           | domain      | a retrain trigger naming a snapshot |

Candidates are keyed by the example id (a content hash). [1] Scored examples by tenant, so one
curator replica owns each tenant's duplicate index; with the shared index
(``WINNOW_DEDUP_SHARED``, PostgreSQL) by example id, so one tenant spreads over every replica
(``winnow.dedup.index.dedup_partition_key``).
"""

from __future__ import annotations

from dataclasses import dataclass

from winnow.settings import Settings


@dataclass(frozen=True)
class TopicLayout:
    """Topic names derived from a prefix and the list of source names."""

    prefix: str
    source_names: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> TopicLayout:
        """The layout the given settings describe."""
        return cls(settings.topic_prefix, tuple(settings.source_topics))

    def source(self, name: str) -> str:
        """The topic of one source, e.g. ``winnow.sources.tickets``."""
        return f"{self.prefix}.sources.{name}"

    @property
    def sources(self) -> list[str]:
        """Every source topic."""
        return [self.source(n) for n in self.source_names]

    @property
    def candidates(self) -> str:
        return f"{self.prefix}.candidates"

    @property
    def scored(self) -> str:
        return f"{self.prefix}.scored"

    @property
    def curated(self) -> str:
        return f"{self.prefix}.curated"

    @property
    def rejected(self) -> str:
        return f"{self.prefix}.rejected"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}.dlq"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts"

    @property
    def retrain(self) -> str:
        return f"{self.prefix}.retrain"

    def all(self) -> list[str]:
        """Every topic of the layout, sources first."""
        return [
            *self.sources,
            self.candidates,
            self.scored,
            self.curated,
            self.rejected,
            self.dlq,
            self.alerts,
            self.retrain,
        ]


SOURCE_FOR_TYPE = {
    "winnow.support_ticket.v1": "tickets",
    "winnow.chat_feedback.v1": "feedback",
    "winnow.synthetic_example.v1": "synthetic",
}
"""The source topic a producer should use for each event type (the validator accepts any type on
any source topic; this only keeps like with like)."""
