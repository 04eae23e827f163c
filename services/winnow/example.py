"""The canonical ``Example``: the one record every stage takes and passes on."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from winnow.events import ChatMessage, Role
from winnow.reasons import DropReason

Provenance = Annotated[
    str,
    Field(
        pattern=r"^(human_agent|end_user|reviewer|synthetic:.+)$",
        description="Who wrote the answer: human_agent, end_user, reviewer or synthetic:<model>.",
    ),
]


class ExampleKind(StrEnum):
    """What an example trains."""

    SFT = "sft"
    """Messages ending with a good assistant answer (supervised fine-tuning)."""
    PREFERENCE = "preference"
    """A prompt with a chosen and a rejected answer (DPO and friends)."""
    NEGATIVE = "negative"
    """Messages ending with an answer labelled undesirable, with no better one (KTO)."""


class SourceRef(BaseModel):
    """Where an example came from: enough to find the original event again."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_type: str
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    fanout: int = Field(1, ge=1, description="How many examples the event produced.")
    index: int = Field(0, ge=0, description="This example's position among them.")


class Decision(BaseModel):
    """Curation's verdict, with every reason that counted against the example."""

    model_config = ConfigDict(frozen=True)

    status: Literal["accepted", "rejected"]
    reasons: list[DropReason] = Field(default_factory=list)
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class TurnScore(BaseModel):
    """Scores of one substantive agent turn of a conversation, judged in its context."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=0, description="Position of the agent turn in ``messages``.")
    reward: float
    relevance: float


class Example(BaseModel):
    """A candidate training example, from normalisation to the store."""

    id: str = Field(description="sha256 of the tenant, kind and content: equal content, equal id.")
    kind: ExampleKind
    tenant: str
    domain: str | None = None
    messages: list[ChatMessage] = Field(
        description="OpenAI chat messages; for SFT and negatives they end with the answer, "
        "for preferences they are the prompt only."
    )
    chosen: str | None = None
    rejected: str | None = None
    provenance: Provenance
    source: SourceRef
    language: str | None = None
    csat: int | None = None
    category: str | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    turn_scores: list[TurnScore] = Field(
        default_factory=list,
        description="Per-turn scores of a support conversation's substantive agent turns; the "
        "example's reward and relevance are their mean.",
    )
    flags: list[str] = Field(default_factory=list)
    redactions: dict[str, int] = Field(
        default_factory=dict, description="PII values replaced by placeholders, by type."
    )
    subjects: list[str] = Field(
        default_factory=list,
        description="Keyed hashes (`type:hmac`) of the e-mails, phones, ids, usernames and "
        "names redaction removed: what `winnow erase` finds a person's examples by.",
    )
    model_versions: dict[str, str] = Field(default_factory=dict)
    decision: Decision | None = None
    event_time: datetime
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def answer_index(self) -> int | None:
        """Position of the answer curation judges in ``messages`` (None for preferences).

        The last assistant message with a training weight: in a weighted support conversation
        that is the last substantive agent turn, not the closing small talk after it.
        """
        if self.kind is ExampleKind.PREFERENCE or not self.messages:
            return None
        weighted = [
            i for i, m in enumerate(self.messages) if m.role is Role.ASSISTANT and m.weight == 1
        ]
        if weighted:
            return weighted[-1]
        return len(self.messages) - 1

    @property
    def answer(self) -> str:
        """The text curation judges: the chosen response, or the answer message.

        For a weighted support conversation: its substantive agent turns (weight 1), joined, so
        the answer filters judge what the agent contributed, not the goodbye at the end.
        """
        if self.kind is ExampleKind.PREFERENCE:
            return self.chosen or ""
        trained = [m.content for m in self.messages if m.role is Role.ASSISTANT and m.weight == 1]
        if trained:
            return "\n\n".join(trained)
        index = self.answer_index
        if index is not None and self.messages[index].role is Role.ASSISTANT:
            return self.messages[index].content
        return ""

    @property
    def prompt_messages(self) -> list[ChatMessage]:
        """The messages before the answer."""
        if self.kind is ExampleKind.PREFERENCE:
            return list(self.messages)
        index = self.answer_index
        return list(self.messages[: index if index is not None else 0])

    @property
    def weighted(self) -> bool:
        """Whether assistant messages carry training weights (multi-turn support tickets)."""
        return any(m.weight is not None for m in self.messages)


def example_id(
    *,
    tenant: str,
    kind: ExampleKind,
    messages: list[ChatMessage],
    chosen: str | None = None,
    rejected: str | None = None,
) -> str:
    """Content hash of an example: stable across processes, replays and replicas."""
    canonical = json.dumps(
        {
            "tenant": tenant,
            "kind": kind.value,
            "messages": [[m.role.value, m.content] for m in messages],
            "chosen": chosen,
            "rejected": rejected,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
