"""Source events -> candidate ``Example`` records (``ticket_to_examples`` and friends).

Every event yields zero or more examples; zero means the event holds nothing trainable and the
validator dead-letters it with ``no_example``. Examples of one event share its ``SourceRef`` with a
``fanout`` and ``index`` so downstream accounting knows when an event is complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from winnow.events import (
    ChatFeedbackEvent,
    ChatMessage,
    ResolutionStatus,
    Role,
    SourceEvent,
    Speaker,
    SupportTicket,
    SupportTicketEvent,
    SyntheticExampleEvent,
)
from winnow.example import Example, ExampleKind, SourceRef, example_id
from winnow.stages.decode import Coordinates
from winnow.stages.ticket import segment_conversation

UNRESOLVED_FLAG = "unresolved_ticket"


@dataclass(frozen=True, slots=True)
class _Draft:
    """An example before it knows its place among its event's siblings."""

    kind: ExampleKind
    messages: list[ChatMessage]
    provenance: str
    chosen: str | None = None
    rejected: str | None = None
    flags: tuple[str, ...] = ()


class TicketShape(StrEnum):
    """How a support conversation becomes training examples."""

    CONVERSATION = "conversation"
    """One multi-turn example; only substantive agent turns have training weight 1."""
    PER_TURN = "per_turn"
    """One example per substantive agent turn, ending with it (earlier agent turns weight 0)."""


def _ticket_messages(event: SupportTicketEvent) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    for turn in event.data.turns:
        role = Role.USER if turn.speaker is Speaker.CUSTOMER else Role.ASSISTANT
        if not messages and role is Role.ASSISTANT:
            continue
        if messages and messages[-1].role is role:
            joined = f"{messages[-1].content}\n\n{turn.text}"
            messages[-1] = ChatMessage(role=role, content=joined)
        else:
            messages.append(ChatMessage(role=role, content=turn.text))
    while messages and messages[-1].role is not Role.ASSISTANT:
        messages.pop()
    return messages


def ticket_to_examples(
    event: SupportTicketEvent, shape: TicketShape = TicketShape.CONVERSATION
) -> list[_Draft]:
    """A support conversation -> multi-turn SFT example(s) with a training weight per agent turn.

    Consecutive turns by the same speaker are joined; agent turns before the customer's first
    message and customer turns after the last agent turn are dropped. Agent turns that are
    greetings, identity checks, acknowledgements or closing small talk get ``weight`` 0
    (``stages.ticket``); a ticket with no substantive agent turn still yields its example, for
    curation to reject with a reason. A ticket with a single agent reply stays unweighted.
    """
    plain = _ticket_messages(event)
    if not plain:
        return []
    flags = () if event.data.status is ResolutionStatus.RESOLVED else (UNRESOLVED_FLAG,)
    if sum(m.role is Role.ASSISTANT for m in plain) < 2:
        # One agent reply: the answer filters judge it as they always have, unweighted.
        return [_Draft(ExampleKind.SFT, plain, "human_agent", flags=flags)]
    conversation = segment_conversation([(m.role, m.content) for m in plain])
    weights = conversation.weights()
    messages = [
        m.model_copy(update={"weight": w}) if m.role is Role.ASSISTANT else m
        for m, w in zip(plain, weights, strict=True)
    ]
    if shape is TicketShape.CONVERSATION or not conversation.substantive_answers:
        return [_Draft(ExampleKind.SFT, messages, "human_agent", flags=flags)]
    drafts = []
    for end in conversation.substantive_answers:
        prefix = [
            m.model_copy(update={"weight": 0}) if m.role is Role.ASSISTANT else m
            for m in messages[:end]
        ]
        drafts.append(_Draft(ExampleKind.SFT, [*prefix, messages[end]], "human_agent", flags=flags))
    return drafts


def feedback_to_examples(event: ChatFeedbackEvent) -> list[_Draft]:
    """Chat feedback -> preference, SFT or negative examples.

    - a correction: preference (chosen = correction, rejected = response) and SFT of the correction;
    - alternatives with a preferred one: preference of it over the response (or over the others);
    - otherwise thumbs-up / high score: SFT of the response; thumbs-down / low score: a negative.
    """
    fb = event.data
    prompt = list(fb.messages)
    who = fb.given_by.value
    if fb.correction is not None and fb.correction.strip() != fb.response.strip():
        return [
            _Draft(ExampleKind.PREFERENCE, prompt, who, chosen=fb.correction, rejected=fb.response),
            _Draft(ExampleKind.SFT, [*prompt, _assistant(fb.correction)], who),
        ]
    preferred = [a.content for a in fb.alternatives if a.preferred]
    if preferred:
        others = [
            a.content for a in fb.alternatives if not a.preferred and a.content != preferred[0]
        ]
        rejected = fb.response if fb.response != preferred[0] else (others[0] if others else None)
        if rejected is not None:
            return [
                _Draft(ExampleKind.PREFERENCE, prompt, who, chosen=preferred[0], rejected=rejected)
            ]
    kind = ExampleKind.SFT if fb.rating.is_positive() else ExampleKind.NEGATIVE
    return [_Draft(kind, [*prompt, _assistant(fb.response)], who)]


def synthetic_to_examples(event: SyntheticExampleEvent) -> list[_Draft]:
    """A teacher-LLM example -> one SFT example with provenance ``synthetic:<model>``."""
    data = event.data
    messages = [ChatMessage(role=Role.SYSTEM, content=data.system)] if data.system else []
    messages += [ChatMessage(role=Role.USER, content=data.prompt), _assistant(data.response)]
    return [_Draft(ExampleKind.SFT, messages, f"synthetic:{data.generator_model}")]


@dataclass(frozen=True, slots=True)
class NormaliseOptions:
    """Normalisation knobs: the shape of ticket examples and the producer category map.

    Services build them from settings (``winnow.agents.config.normalise_options``).
    """

    ticket_shape: TicketShape = TicketShape.CONVERSATION
    category_map: Mapping[str, str] = field(default_factory=dict)
    """Producer category (or ``tag:<tag>``), casefolded -> router label."""


def producer_domain(ticket: SupportTicket, category_map: Mapping[str, str]) -> str | None:
    """The router label the producer's category (else its first mapped tag) maps to."""
    if not category_map:
        return None
    if ticket.category and ticket.category.strip().casefold() in category_map:
        return category_map[ticket.category.strip().casefold()]
    for tag in ticket.tags:
        label = category_map.get(f"tag:{tag.strip().casefold()}")
        if label is not None:
            return label
    return None


def event_to_examples(
    event: SourceEvent, coords: Coordinates, options: NormaliseOptions | None = None
) -> list[Example]:
    """Normalise any source event into its candidate examples (possibly none).

    A ticket whose producer category maps to a router label carries it as ``domain`` already;
    the scorer keeps it and records whether its router agrees.
    """
    opts = options or NormaliseOptions()
    extras: dict[str, object]
    if isinstance(event, SupportTicketEvent):
        drafts = ticket_to_examples(event, opts.ticket_shape)
        extras = {
            "language": event.data.language,
            "csat": event.data.csat,
            "category": event.data.category,
            "domain": producer_domain(event.data, opts.category_map),
        }
    elif isinstance(event, ChatFeedbackEvent):
        drafts, extras = feedback_to_examples(event), {}
    else:
        drafts, extras = synthetic_to_examples(event), {}
    return [
        Example(
            id=example_id(
                tenant=event.tenant,
                kind=d.kind,
                messages=d.messages,
                chosen=d.chosen,
                rejected=d.rejected,
            ),
            kind=d.kind,
            tenant=event.tenant,
            messages=d.messages,
            chosen=d.chosen,
            rejected=d.rejected,
            provenance=d.provenance,
            source=SourceRef(
                event_id=event.id,
                event_type=event.type,
                topic=coords.topic,
                partition=coords.partition,
                offset=coords.offset,
                fanout=len(drafts),
                index=i,
            ),
            flags=list(d.flags),
            event_time=event.time,
            **extras,
        )
        for i, d in enumerate(drafts)
    ]


def _assistant(text: str) -> ChatMessage:
    return ChatMessage(role=Role.ASSISTANT, content=text)
