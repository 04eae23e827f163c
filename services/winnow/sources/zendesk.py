"""Zendesk tickets -> ``winnow.support_ticket.v1`` events.

Reads the Tickets API's ticket object (``id``, ``status``, ``via.channel``, ``tags``,
``custom_fields``, ``satisfaction_rating``, ``requester_id``, ``created_at``, ``updated_at``)
with its comments from the Ticket Comments API embedded as ``comments`` (``author_id``,
``body`` / ``plain_body``, ``public``, ``created_at``), and the ``users`` side-load
(``?include=users``: ``id``, ``role`` of ``end-user`` / ``agent`` / ``admin``) beside the
``tickets`` list. Public comments become turns (the author's role decides the speaker; without
the side-load, the requester is the customer); internal notes are left out and counted.
Satisfaction ``good`` / ``bad`` becomes CSAT 5 / 1; the category is a custom field's value
(``category_field``, its id) or else the first tag. Every field not mapped goes to ``metadata``.
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
    unmapped,
)

CHANNELS = {
    "email": "email",
    "web": "web",
    "web_form": "web",
    "help_center": "web",
    "api": "other",
    "chat": "chat",
    "native_messaging": "chat",
    "voice": "phone",
    "twitter": "social",
    "facebook": "social",
    "instagram_dm": "social",
    "whatsapp": "social",
}
STATUSES = {
    "solved": "resolved",
    "closed": "resolved",
    "new": "unresolved",
    "open": "unresolved",
    "pending": "unresolved",
    "hold": "unresolved",
}
CSAT = {"good": 5, "bad": 1}
MAPPED = {
    "id",
    "status",
    "via",
    "tags",
    "custom_fields",
    "satisfaction_rating",
    "requester_id",
    "created_at",
    "updated_at",
    "comments",
}


def _turns(ticket: dict[str, Any], roles: dict[Any, str]) -> tuple[list[dict[str, Any]], int]:
    comments = ticket.get("comments")
    if not isinstance(comments, list):
        raise ValueError("no `comments` list (embed each ticket's comments from the Comments API)")
    turns: list[dict[str, Any]] = []
    internal = 0
    for comment in comments:
        if not comment.get("public", True):
            internal += 1  # an internal note: agents talking to agents, not the conversation
            continue
        author = comment.get("author_id")
        role = roles.get(author)
        if role is None:
            role = "end-user" if author == ticket.get("requester_id") else "agent"
        text = comment.get("plain_body") or comment.get("body") or ""
        turns.append(
            {
                "speaker": "customer" if role == "end-user" else "agent",
                "text": str(text),
                "time": comment.get("created_at"),
            }
        )
    return conversation(turns, "public comment"), internal


def _category(ticket: dict[str, Any], category_field: str | None) -> str | None:
    value = None
    if category_field is not None:
        for field in ticket.get("custom_fields") or []:
            if str(field.get("id")) == str(category_field):
                value = field.get("value")
    return first_tag_or(value, [str(t) for t in ticket.get("tags") or []])


def convert_zendesk(
    ticket: Any,
    side: dict[str, Any],
    *,
    tenant: str,
    category_field: str | None = None,
) -> Converted | Rejected:
    """One Zendesk ticket -> an event document, or the reason it cannot be one."""
    roles = {
        u.get("id"): str(u.get("role")) for u in side.get("users") or [] if isinstance(u, dict)
    }

    def read(record: dict[str, Any]) -> Ticket:
        turns, internal = _turns(record, roles)
        rating = record.get("satisfaction_rating") or {}
        metadata = unmapped(record, MAPPED)
        metadata["internal_notes"] = internal
        if record.get("custom_fields"):
            metadata["custom_fields"] = record["custom_fields"]
        return Ticket(
            ticket_id=str(record["id"]),
            version=record.get("updated_at") or record.get("created_at"),
            channel=CHANNELS.get(str((record.get("via") or {}).get("channel")), "other"),
            created_at=record.get("created_at"),
            status=STATUSES.get(str(record.get("status")), "unresolved"),
            turns=turns,
            csat=CSAT.get(str(rating.get("score"))) if isinstance(rating, dict) else None,
            tags=[str(t) for t in record.get("tags") or []],
            category=_category(record, category_field),
            metadata=metadata,
        )

    return convert_record("zendesk", "ticket", ticket, tenant, read)
