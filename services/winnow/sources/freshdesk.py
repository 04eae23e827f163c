"""Freshdesk tickets -> ``winnow.support_ticket.v1`` events.

Reads the v2 API's ticket object (``id``, ``status``, ``source``, ``requester_id``,
``description`` / ``description_text`` (the customer's opening message), ``tags``,
``custom_fields``, ``created_at``, ``updated_at``) with its conversations embedded as
``conversations`` (``?include=conversations``, or the "List all Conversations of a Ticket" API:
``body`` / ``body_text``, ``incoming``, ``private``, ``user_id``, ``created_at``) and its
satisfaction ratings as ``satisfaction_ratings`` (embedded, or a side-load list beside
``tickets`` with each rating's ``ticket_id``). Optional side-loads ``agents`` and ``contacts``
(``id``s) give each author's role.

The opening message and every public conversation become turns: an author among ``agents`` is
the agent, among ``contacts`` the customer; without the side-loads ``incoming`` (or the
requester's own ``user_id``) marks the customer. Private notes are left out and counted. Status
4 / 5 (Resolved / Closed) is resolved. The latest rating's ``default_question`` answer (103 ...
-103, Extremely Happy ... Extremely Unhappy, on 2- to 7-point scales) becomes CSAT 5 ... 1. The
category is a custom field's value (``category_field``, e.g. ``cf_category``) or else the first
tag. Every field not mapped goes to ``metadata``.
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
    unmapped,
)

CHANNELS = {1: "email", 2: "web", 3: "phone", 5: "social", 6: "social", 7: "chat", 9: "web"}
CHANNELS[10] = "email"  # outbound e-mail
RESOLVED = frozenset({4, 5})
CSAT = {103: 5, 102: 4, 101: 4, 100: 3, -101: 2, -102: 2, -103: 1}
MAPPED = {
    "id",
    "status",
    "source",
    "description",
    "description_text",
    "conversations",
    "satisfaction_ratings",
    "tags",
    "created_at",
    "updated_at",
}


def _is_customer(message: dict[str, Any], ticket: dict[str, Any], roles: dict[Any, str]) -> bool:
    role = roles.get(message.get("user_id"))
    if role is not None:
        return role == "customer"
    return bool(message.get("incoming")) or message.get("user_id") == ticket.get("requester_id")


def _turns(ticket: dict[str, Any], roles: dict[Any, str]) -> tuple[list[dict[str, Any]], int]:
    replies = ticket.get("conversations")
    if not isinstance(replies, list):
        raise ValueError(
            "no `conversations` list (embed them with ?include=conversations or the "
            "Conversations API)"
        )
    opening = ticket.get("description_text") or html_text(ticket.get("description"))
    turns = [{"speaker": "customer", "text": opening, "time": ticket.get("created_at")}]
    private = 0
    for reply in replies:
        if reply.get("private"):
            private += 1  # a private note: agents talking to agents, not the conversation
            continue
        customer = _is_customer(reply, ticket, roles)
        turns.append(
            {
                "speaker": "customer" if customer else "agent",
                "text": reply.get("body_text") or html_text(reply.get("body")),
                "time": reply.get("created_at"),
            }
        )
    return conversation(turns, "description or public reply"), private


def _csat(ticket: dict[str, Any], side: dict[str, Any]) -> int | None:
    ratings = ticket.get("satisfaction_ratings")
    if not isinstance(ratings, list):
        ratings = [
            r
            for r in side.get("satisfaction_ratings") or []
            if isinstance(r, dict) and r.get("ticket_id") == ticket["id"]
        ]
    if not ratings:
        return None
    latest = max(ratings, key=lambda r: str(r.get("created_at") or ""))
    answer = (latest.get("ratings") or {}).get("default_question")
    if answer is None:
        return None
    if answer not in CSAT:
        raise ValueError(f"satisfaction rating {answer!r} is not one of {sorted(CSAT)}")
    return CSAT[answer]


def _roles(side: dict[str, Any]) -> dict[Any, str]:
    roles = {c.get("id"): "customer" for c in side.get("contacts") or [] if isinstance(c, dict)}
    roles.update({a.get("id"): "agent" for a in side.get("agents") or [] if isinstance(a, dict)})
    return roles


def convert_freshdesk(
    record: Any,
    side: dict[str, Any],
    *,
    tenant: str,
    category_field: str | None = None,
) -> Converted | Rejected:
    """One Freshdesk ticket -> an event document, or the reason it cannot be one."""
    roles = _roles(side)

    def read(ticket: dict[str, Any]) -> Ticket:
        turns, private = _turns(ticket, roles)
        tags = [str(t) for t in ticket.get("tags") or []]
        custom = ticket.get("custom_fields") or {}
        return Ticket(
            ticket_id=str(ticket["id"]),
            version=ticket.get("updated_at") or ticket.get("created_at"),
            channel=CHANNELS.get(ticket.get("source"), "other"),  # type: ignore[arg-type]
            created_at=ticket.get("created_at"),
            status="resolved" if ticket.get("status") in RESOLVED else "unresolved",
            turns=turns,
            csat=_csat(ticket, side),
            tags=tags,
            category=first_tag_or(custom.get(category_field) if category_field else None, tags),
            metadata={**unmapped(ticket, MAPPED), "private_notes": private},
        )

    return convert_record("freshdesk", "ticket", record, tenant, read)
