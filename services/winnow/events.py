"""Source event models: the contract with the systems that feed Winnow.

Every event travels in a CloudEvents 1.0 envelope (``specversion``, ``id``, ``source``, ``type``,
optional ``time``, ``datacontenttype``, ``dataschema``, ``subject``, Winnow's ``tenant``
extension and any other extension attribute) whose ``type`` carries a version, e.g.
``winnow.support_ticket.v1``. A breaking change gets a new type (``...v2``) beside the old one.
``winnow schemas export`` writes these models' JSON Schemas into ``schemas/``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    model_validator,
)

from winnow.reasons import DeadLetterReason

NonEmpty = Annotated[str, Field(min_length=1)]
# A model's name goes into the example's provenance (`synthetic:<model>`), which is one line.
ModelName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The model's name: one line, no control characters.",
    ),
]
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
TENANT_MAX_CHARS = 64
Tenant = Annotated[str, Field(min_length=1, max_length=TENANT_MAX_CHARS, pattern=TENANT_PATTERN)]


class _Model(BaseModel):
    # Unknown fields are refused: a renamed upstream field must surface as a schema violation,
    # not vanish silently.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=True)


# --- Support tickets ---------------------------------------------------------------------------


class Speaker(StrEnum):
    """Who wrote a turn of a support conversation."""

    CUSTOMER = "customer"
    AGENT = "agent"


class Turn(_Model):
    """One message of a support conversation."""

    speaker: Speaker
    text: str
    time: datetime | None = None


class ResolutionStatus(StrEnum):
    """How a ticket ended."""

    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"


class SupportTicket(_Model):
    """A closed support conversation between a customer and a human agent."""

    ticket_id: NonEmpty
    channel: Literal["email", "chat", "phone", "web", "social", "other"]
    created_at: datetime
    resolved_at: datetime | None = None
    turns: list[Turn] = Field(min_length=1)
    status: ResolutionStatus
    csat: int | None = Field(None, ge=1, le=5, description="Customer satisfaction, 1-5.")
    tags: list[str] = Field(default_factory=list)
    product: str | None = None
    category: str | None = None
    language: str | None = Field(None, description="BCP-47 language tag, e.g. `en`.")
    metadata: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Fields of the source system Winnow does not model (helpdesk exports keep "
        "them here); carried, never interpreted.",
    )


# --- Chat feedback -----------------------------------------------------------------------------


class Role(StrEnum):
    """OpenAI chat roles."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class ChatMessage(_Model):
    """One message in OpenAI chat format."""

    role: Role
    content: str
    weight: Literal[0, 1] | None = Field(
        None,
        description="Assistant messages only: 1 to train on this message, 0 to keep it as context "
        "only (OpenAI fine-tuning's `weight`). Omitted: trained on.",
    )

    @model_serializer(mode="wrap")
    def _omit_unset_weight(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Messages without a weight serialise exactly as before (OpenAI refuses unknown keys).
        data: dict[str, Any] = handler(self)
        if data.get("weight") is None:
            data.pop("weight", None)
        return data


class Thumb(StrEnum):
    """A binary rating."""

    UP = "up"
    DOWN = "down"


class Rating(_Model):
    """A thumbs rating, a numeric score on a stated scale, or both."""

    thumb: Thumb | None = None
    score: float | None = None
    scale_max: float = Field(5.0, gt=0)

    @model_validator(mode="after")
    def _one_of(self) -> Rating:
        if self.thumb is None and self.score is None:
            raise ValueError("a rating needs a thumb or a score")
        if self.score is not None and not 0 <= self.score <= self.scale_max:
            raise ValueError("score must lie between 0 and scale_max")
        return self

    def is_positive(self) -> bool:
        """Thumbs up, or a score in the top half of its scale."""
        if self.thumb is not None:
            return self.thumb is Thumb.UP
        assert self.score is not None
        return self.score > self.scale_max / 2


class FeedbackGiver(StrEnum):
    """Who gave the feedback."""

    END_USER = "end_user"
    REVIEWER = "reviewer"


class Alternative(_Model):
    """Another response shown for the same prompt (A/B tests, regenerations)."""

    content: str
    preferred: bool = False


class ChatFeedback(_Model):
    """A rating of one assistant response, optionally with a correction or alternatives."""

    conversation_id: NonEmpty
    model_id: NonEmpty
    messages: list[ChatMessage] = Field(min_length=1, description="The prompt context.")
    response: str
    rating: Rating
    correction: str | None = None
    alternatives: list[Alternative] = Field(default_factory=list)
    given_by: FeedbackGiver = FeedbackGiver.END_USER


# --- Synthetic examples ------------------------------------------------------------------------


class SyntheticExample(_Model):
    """An example written by a teacher LLM (distillation, self-instruct, evol-instruct...)."""

    generator_model: ModelName
    method: Literal["teacher", "self_instruct", "evol_instruct", "rewrite", "other"]
    prompt: str
    response: str
    system: str | None = None


# --- Envelopes ---------------------------------------------------------------------------------


EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
"""CloudEvents 1.0 attribute names: lower-case ASCII letters and digits, 20 at most."""

_JSON_CONTENT = re.compile(r"^application/(?:[\w.+-]+\+)?json(?:\s*;.*)?$", re.IGNORECASE)


def _now() -> datetime:
    return datetime.now(UTC)


class _Envelope(BaseModel):
    # CloudEvents 1.0: the spec's optional attributes and any extension attribute are accepted on
    # the envelope; ``data`` keeps the strict models, so a renamed field in it still dead-letters.
    model_config = ConfigDict(extra="allow", str_strip_whitespace=False, frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: NonEmpty = Field(max_length=200, description="Unique per event; the idempotency key.")
    source: NonEmpty = Field(description="URI-reference of the producing system.")
    time: datetime = Field(
        default_factory=_now,
        description="When the event happened (optional in CloudEvents: absent, the time Winnow "
        "decoded it).",
    )
    tenant: Tenant = Field(description="Winnow's extension attribute: whose data this is.")
    datacontenttype: str | None = Field(
        None, description="Media type of `data`; JSON only (`application/json`, `...+json`)."
    )
    dataschema: str | None = Field(None, min_length=1, description="URI of the data's schema.")
    subject: str | None = Field(None, min_length=1, description="The subject, e.g. a ticket id.")

    @model_validator(mode="after")
    def _cloudevents_rules(self) -> _Envelope:
        if self.datacontenttype is not None and not _JSON_CONTENT.match(self.datacontenttype):
            raise ValueError(f"datacontenttype {self.datacontenttype[:80]!r} is not JSON")
        for name, value in (self.model_extra or {}).items():
            if not EXTENSION_NAME.match(name):
                raise ValueError(
                    f"{name[:40]!r} is not a CloudEvents attribute name (a-z, 0-9, at most 20)"
                )
            # The spec's JSON types for attributes: string, integer, boolean (an int subclass).
            if not isinstance(value, str | int):
                raise ValueError(f"extension attribute {name!r} must be a string, integer or bool")
        return self

    @property
    def extensions(self) -> dict[str, str | int | bool]:
        """The extension attributes other than ``tenant`` (e.g. ``traceparent``)."""
        return dict(self.model_extra or {})


class SupportTicketEvent(_Envelope):
    """A support ticket in its envelope."""

    type: Literal["winnow.support_ticket.v1"] = "winnow.support_ticket.v1"
    data: SupportTicket


class ChatFeedbackEvent(_Envelope):
    """Chat feedback in its envelope."""

    type: Literal["winnow.chat_feedback.v1"] = "winnow.chat_feedback.v1"
    data: ChatFeedback


class SyntheticExampleEvent(_Envelope):
    """A synthetic example in its envelope."""

    type: Literal["winnow.synthetic_example.v1"] = "winnow.synthetic_example.v1"
    data: SyntheticExample


SourceEvent = Annotated[
    SupportTicketEvent | ChatFeedbackEvent | SyntheticExampleEvent, Field(discriminator="type")
]
"""Any source event, told apart by its ``type``."""

SOURCE_EVENT_ADAPTER: TypeAdapter[SourceEvent] = TypeAdapter(SourceEvent)
EVENT_TYPES: dict[str, type[_Envelope]] = {
    "winnow.support_ticket.v1": SupportTicketEvent,
    "winnow.chat_feedback.v1": ChatFeedbackEvent,
    "winnow.synthetic_example.v1": SyntheticExampleEvent,
}


# --- Winnow's own records ------------------------------------------------------------------------


class DeadLetter(BaseModel):
    """A record that could not be processed, with everything needed to inspect or replay it."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    id: str = Field(description="sha256 of the record's coordinates (or bytes): replays collapse.")
    reason: DeadLetterReason
    error: str = Field(description="What failed, for people; never holds the payload itself.")
    stage: Literal["validator", "scorer", "curator"]
    original: bytes = Field(description="The original record bytes (base64 in JSON).")
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    event_id: str | None = None
    tenant: str | None = None
    failed_at: datetime
    subjects: list[str] = Field(
        default_factory=list,
        description="Keyed hashes of the identifiers in the original (see Example.subjects).",
    )


class RetrainReason(StrEnum):
    """Which threshold made a domain due for retraining."""

    MIN_EXAMPLES = "min_examples"
    """The domain gained at least ``retrain_min_examples`` curated examples."""
    MIN_TOKENS = "min_tokens"
    """The domain gained at least ``retrain_min_tokens`` tokens."""


class RetrainEvent(BaseModel):
    """A domain is due for retraining: names the snapshot to train on (keyed by domain)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["winnow.retrain.v1"] = "winnow.retrain.v1"
    id: str = Field(description="sha256 of tenant, domain and snapshot id: replays collapse.")
    tenant: Tenant
    domain: str
    snapshot_id: str = Field(description="Content hash of the snapshot (its manifest's id).")
    path: str = Field(
        description="URL (s3://, gs://, az://, file://) or local folder of the snapshot: a Hugging "
        "Face dataset repository (README.md, data/) complete once its manifest.json is there."
    )
    format: str = Field(description="Export format of the snapshot's files.")
    counts: dict[str, int] = Field(description="Exported rows of the snapshot, by example kind.")
    tokens: int = Field(ge=0, description="Tokens in the snapshot.")
    new_examples: int = Field(ge=0, description="Curated examples gained since the last one.")
    new_tokens: int = Field(ge=0, description="Tokens gained since the last snapshot.")
    reason: RetrainReason = Field(description="The threshold crossed (examples checked first).")
    created_at: datetime


class AlertEvent(BaseModel):
    """A data-quality alert that fired or resolved (keyed by its id on the alerts topic)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["winnow.alert.v1"] = "winnow.alert.v1"
    id: str = Field(
        description="sha256 of the alert's fingerprint and start: firing and "
        "resolved records of one alert share it."
    )
    fingerprint: str = Field(description="Stable id of the rule and labels (Alertmanager's).")
    rule: str = Field(description="Name of the rule in the rules file.")
    severity: Literal["info", "warning", "critical"]
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict, description="e.g. source, metric.")
    value: float = Field(description="The measured value in the window that changed the state.")
    threshold: float
    summary: str
    started_at: datetime
    ended_at: datetime | None = None
    window_end: datetime = Field(description="End of the window that was evaluated.")
