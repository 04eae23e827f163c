"""Conversation-level curation of support tickets, and which turn decided.

A weighted conversation (``Example.weighted``) is judged by its substantive agent turns, not by
its closing small talk: the example's ``answer`` is already the last substantive turn, so the
per-answer filters see that turn. This filter adds what only the whole conversation shows:

- no agent turn carries substance (greetings, identity checks and goodbyes only);
- every substantive agent turn only deflects or transfers ("let me transfer you");
- the conversation is too long for the target model's context.

``deciding_turn`` names the message that decided a rejection, for people reading it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from winnow.events import Role
from winnow.example import Example
from winnow.reasons import DropReason
from winnow.stages.filters.base import ExampleFilter
from winnow.stages.filters.quality import ESCALATIONS, REFUSALS, _substance, sentences_of
from winnow.stages.ticket import TurnKind, classify_turn

CHARS_PER_TOKEN = 4


def substantive_turns(example: Example) -> list[int]:
    """Positions of the agent turns with training weight 1."""
    return [i for i, m in enumerate(example.messages) if m.role is Role.ASSISTANT and m.weight == 1]


def deflects(text: str, min_substance_chars: int) -> bool:
    """Whether an agent turn only hands over or refuses, with too little else said."""
    if not (ESCALATIONS.search(text) or REFUSALS.search(text)):
        return False
    return _substance(sentences_of(text), ESCALATIONS, REFUSALS) < min_substance_chars


def conversation_tokens(example: Example) -> int:
    """Tokens of the whole conversation (4 characters a token, per message, rounded up)."""
    return sum(math.ceil(len(m.content) / CHARS_PER_TOKEN) for m in example.messages)


@dataclass(frozen=True)
class ConversationFilter(ExampleFilter):
    """Rejects weighted conversations with no substance, only deflection, or too many tokens."""

    min_substance_chars: int = 40
    max_tokens: int | None = 8192

    def check(self, example: Example) -> DropReason | None:
        if not example.weighted:
            return None
        turns = substantive_turns(example)
        if not turns:
            agent = [m.content for m in example.messages if m.role is Role.ASSISTANT]
            if any(classify_turn(t, Role.ASSISTANT) is TurnKind.TRANSFER for t in agent):
                return DropReason.ESCALATION_ONLY
            return DropReason.NO_SUBSTANTIVE_TURN
        texts = [example.messages[i].content for i in turns]
        if all(deflects(t, self.min_substance_chars) for t in texts):
            return DropReason.ESCALATION_ONLY
        if self.max_tokens is not None and conversation_tokens(example) > self.max_tokens:
            return DropReason.CONVERSATION_TOO_LONG
        return None


def deciding_turn(example: Example, reason: DropReason) -> int | None:
    """The message that decided ``reason`` for a conversation (None: the whole of it)."""
    turns = substantive_turns(example)
    if reason is DropReason.NO_SUBSTANTIVE_TURN:
        agent = [i for i, m in enumerate(example.messages) if m.role is Role.ASSISTANT]
        return agent[-1] if agent else None
    if reason in (DropReason.LOW_REWARD, DropReason.LOW_RELEVANCE) and example.turn_scores:
        key = "reward" if reason is DropReason.LOW_REWARD else "relevance"
        return min(example.turn_scores, key=lambda t: getattr(t, key)).index
    if turns and reason in (
        DropReason.ESCALATION_ONLY,
        DropReason.TOO_SHORT,
        DropReason.BOILERPLATE,
        DropReason.TEMPLATE_PLACEHOLDER,
    ):
        return turns[-1]
    return None
