"""Settings of support conversations: the training shape, the length limit, producer categories.

A base class of :class:`winnow.settings.Settings` (which adds the ``WINNOW_`` prefix), kept apart
so each module stays under the size limit; read them as ``Settings().category_map`` and so on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class ConversationSettings(BaseSettings):
    """How tickets become examples and how producer categories map to the router's labels."""

    ticket_example_shape: Literal["conversation", "per_turn"] = Field(
        "conversation",
        description="How a support ticket becomes examples: `conversation` is one multi-turn "
        "example with training weight 1 only on substantive agent turns (greetings, identity "
        "checks and goodbyes get 0); `per_turn` is one example per substantive agent turn.",
    )
    max_conversation_tokens: int | None = Field(
        8192,
        ge=1,
        description="Support conversations longer than this many tokens (4 characters a token) "
        "are rejected (conversation_too_long); unset turns the check off.",
    )
    category_map: dict[str, str] = Field(
        default_factory=dict,
        description="Producer ticket categories and tags -> router labels (JSON), e.g. "
        '`{"Billing": "invoice", "tag:lost-card": "payment"}`: keys are matched case-'
        "insensitively against the ticket's `category`, and `tag:<tag>` against its tags. A "
        "mapped ticket takes that domain (the router's own answer is kept in the "
        "`router_agrees` score); an unmapped one is routed by its issue statement.",
    )
