"""Source events -> candidate ``Example`` records (``ticket_to_examples`` and friends).

Every event yields zero or more examples; zero means the event holds nothing trainable and the
validator dead-letters it with ``no_example``. Examples of one event share its ``SourceRef`` with a
``fanout`` and ``index`` so downstream accounting knows when an event is complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from winnow.events import (
    ChatFeedbackEvent,
    ChatMessage,
    ResolutionStatus,
    Role,
    SourceEvent,
    Speaker,
    SupportTicketEvent,
    SyntheticExampleEvent,
)
from winnow.example import Example, ExampleKind, SourceRef, example_id
from winnow.stages.decode import Coordinates

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


def ticket_to_examples(event: SupportTicketEvent) -> list[_Draft]:
    """A support conversation -> one multi-turn SFT example ending with the agent's last answer.

    Consecutive turns by the same speaker are joined; greetings before the customer's first
    message and customer turns after the last agent answer ("thanks!") are dropped.
    """
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
    if not messages:
        return []
    flags = () if event.data.status is ResolutionStatus.RESOLVED else (UNRESOLVED_FLAG,)
    return [_Draft(ExampleKind.SFT, messages, "human_agent", flags=flags)]


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


def event_to_examples(event: SourceEvent, coords: Coordinates) -> list[Example]:
    """Normalise any source event into its candidate examples (possibly none)."""
    if isinstance(event, SupportTicketEvent):
        drafts = ticket_to_examples(event)
        extras = {
            "language": event.data.language,
            "csat": event.data.csat,
            "category": event.data.category,
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
