"""Intercom conversations -> ``winnow.support_ticket.v1`` events.

Reads the Conversations API's conversation object as "Retrieve a conversation" returns it
(``id``, ``state``, ``created_at`` / ``updated_at`` in Unix seconds, ``source`` (the opening
message: ``type``, ``body``, ``author``), ``conversation_parts.conversation_parts`` (``part_type``,
``body``, ``author.type``, ``created_at``), ``tags.tags[].name``, ``conversation_rating.rating``,
``custom_attributes``), listed under ``conversations`` in the export document.

The opening message and every part with a body become turns: author ``user`` / ``lead`` /
``contact`` is the customer, ``admin`` / ``team`` the agent. Parts of type ``note`` are internal
(left out and counted); so are ``bot`` authors' messages (Fin, Operator), counted apart: Winnow
learns from human agents. Bodies are HTML, kept as their text. ``state`` ``closed`` is resolved;
the 1-5 ``conversation_rating`` is the CSAT; the category is a custom attribute's value
(``category_field``, its name) or else the first tag. Every field not mapped goes to
``metadata``.
"""

from __future__ import annotations

from typing import Any

from winnow.sources.common import (
    Converted,
    Rejected,
    Ticket,
    conversation,
    convert_record,
    first_tag_or,
    html_text,
    iso_time,
    unmapped,
)

CUSTOMERS = frozenset({"user", "lead", "contact"})
AGENTS = frozenset({"admin", "team"})
CHANNELS = {
    "conversation": "chat",
    "chat": "chat",
    "push": "chat",
    "email": "email",
    "facebook": "social",
    "twitter": "social",
    "instagram": "social",
    "whatsapp": "social",
    "phone_call": "phone",
    "phone_switch": "phone",
}
MAPPED = {
    "id",
    "state",
    "source",
    "conversation_parts",
    "tags",
    "conversation_rating",
    "created_at",
    "updated_at",
}


def _turn(message: dict[str, Any], counts: dict[str, int]) -> dict[str, Any] | None:
    """A message as a turn, or None (counted) when it is internal or not a person's."""
    if str(message.get("part_type", "")).startswith("note"):
        counts["internal_notes"] += 1
        return None
    author = str((message.get("author") or {}).get("type"))
    if author == "bot":
        counts["bot_messages"] += 1
        return None
    if author not in CUSTOMERS | AGENTS:
        raise ValueError(f"message author type {author!r} is neither a user nor an admin")
    return {
        "speaker": "customer" if author in CUSTOMERS else "agent",
        "text": html_text(message.get("body")),
        "time": iso_time(message.get("created_at")),
    }


def _turns(record: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    parts = (record.get("conversation_parts") or {}).get("conversation_parts")
    if not isinstance(parts, list):
        raise ValueError(
            "no `conversation_parts` list (export each conversation as `Retrieve a "
            "conversation` returns it)"
        )
    counts = {"internal_notes": 0, "bot_messages": 0}
    opening = record.get("source")
    messages = ([opening] if isinstance(opening, dict) else []) + parts
    # Assignments, snoozes and closes without a message carry no text: dropped with the empty.
    turns = [t for m in messages if (t := _turn(m, counts)) is not None]
    return conversation(turns, "user or admin message"), counts


def convert_intercom(
    record: Any,
    side: dict[str, Any],
    *,
    tenant: str,
    category_field: str | None = None,
) -> Converted | Rejected:
    """One Intercom conversation -> an event document, or the reason it cannot be one."""

    def read(conv: dict[str, Any]) -> Ticket:
        turns, counts = _turns(conv)
        rating = conv.get("conversation_rating") or {}
        tags = [str(t.get("name")) for t in (conv.get("tags") or {}).get("tags") or []]
        attributes = conv.get("custom_attributes") or {}
        category = attributes.get(category_field) if category_field else None
        source = conv.get("source") or {}
        return Ticket(
            ticket_id=str(conv["id"]),
            version=iso_time(conv.get("updated_at") or conv.get("created_at")),
            channel=CHANNELS.get(str(source.get("type")), "other"),
            created_at=iso_time(conv.get("created_at")),
            status="resolved" if conv.get("state") == "closed" else "unresolved",
            turns=turns,
            csat=rating.get("rating") if isinstance(rating, dict) else None,
            tags=tags,
            category=first_tag_or(category, tags),
            metadata={**unmapped(conv, MAPPED), **counts},
        )

    return convert_record("intercom", "conversation", record, tenant, read)
