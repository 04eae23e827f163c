"""Zendesk tickets -> ``winnow.support_ticket.v1`` events.

Reads the Tickets API's ticket object (``id``, ``status``, ``via.channel``, ``tags``,
``custom_fields``, ``satisfaction_rating``, ``requester_id``, ``created_at``, ``updated_at``)
with its comments from the Ticket Comments API embedded as ``comments`` (``author_id``,
``body`` / ``plain_body``, ``public``, ``created_at``), and the ``users`` side-load
(``?include=users``: ``id``, ``role`` of ``end-user`` / ``agent`` / ``admin``) beside the
``tickets`` list. Public comments become turns (the author's role decides the speaker; without
the side-load, the requester is the customer); internal notes are left out and counted.
Satisfaction ``good`` / ``bad`` becomes CSAT 5 / 1; the category is a custom field's value
(``category_field``) or else the first tag. Every field not mapped goes to ``metadata``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from winnow.events import SupportTicketEvent
from winnow.sources.common import Converted, Rejected

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
    for comment in sorted(comments, key=lambda c: str(c.get("created_at", ""))):
        if not comment.get("public", True):
            internal += 1  # an internal note: agents talking to agents, not the conversation
            continue
        text = comment.get("plain_body") or comment.get("body") or ""
        if not str(text).strip():
            continue
        author = comment.get("author_id")
        role = roles.get(author)
        if role is None:
            role = "end-user" if author == ticket.get("requester_id") else "agent"
        speaker = "customer" if role == "end-user" else "agent"
        turns.append({"speaker": speaker, "text": str(text), "time": comment.get("created_at")})
    if not turns:
        raise ValueError("no public comment with text")
    return turns, internal


def _category(ticket: dict[str, Any], category_field: int | None) -> str | None:
    if category_field is not None:
        for field in ticket.get("custom_fields") or []:
            if field.get("id") == category_field and field.get("value"):
                return str(field["value"])
    tags = ticket.get("tags") or []
    return str(tags[0]) if tags else None


def convert_zendesk(
    ticket: Any,
    side: dict[str, Any],
    *,
    tenant: str,
    category_field: int | None = None,
) -> Converted | Rejected:
    """One Zendesk ticket -> an event document, or the reason it cannot be one."""
    original = json.dumps(ticket, ensure_ascii=False, default=str).encode()
    if not isinstance(ticket, dict) or ticket.get("id") is None:
        return Rejected(original, "zendesk: a ticket must be an object with an `id`")
    ticket_id = str(ticket["id"])
    roles = {
        u.get("id"): str(u.get("role")) for u in side.get("users") or [] if isinstance(u, dict)
    }
    try:
        turns, internal = _turns(ticket, roles)
        status = STATUSES.get(str(ticket.get("status")), "unresolved")
        rating = ticket.get("satisfaction_rating") or {}
        metadata = {k: v for k, v in ticket.items() if k not in MAPPED}
        metadata["internal_notes"] = internal
        if ticket.get("custom_fields"):
            metadata["custom_fields"] = ticket["custom_fields"]
        updated = ticket.get("updated_at") or ticket.get("created_at")
        data = {
            "ticket_id": ticket_id,
            "channel": CHANNELS.get(str((ticket.get("via") or {}).get("channel")), "other"),
            "created_at": ticket.get("created_at"),
            "resolved_at": updated if status == "resolved" else None,
            "turns": turns,
            "status": status,
            "csat": CSAT.get(str(rating.get("score"))) if isinstance(rating, dict) else None,
            "tags": [str(t) for t in ticket.get("tags") or []],
            "category": _category(ticket, category_field),
            "metadata": metadata,
        }
        event = {
            "specversion": "1.0",
            # The ticket's version: re-importing one export collapses; an updated ticket is new.
            "id": f"zendesk:{ticket_id}:{updated}",
            "source": "zendesk",
            "type": "winnow.support_ticket.v1",
            "time": updated,
            "tenant": tenant,
            "subject": ticket_id,
            "data": data,
        }
        # Checked here so a bad record is dead-lettered with a Zendesk-specific reason.
        SupportTicketEvent.model_validate_json(json.dumps(event, default=str))
    except (ValueError, TypeError, AttributeError) as exc:
        reason = _summarise(exc) if isinstance(exc, ValidationError) else str(exc)
        return Rejected(original, f"zendesk ticket {ticket_id}: {reason}", ticket_id)
    return Converted(json.loads(json.dumps(event, default=str)))


def _summarise(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        for err in exc.errors(include_url=False, include_input=False)
    )[:500]
