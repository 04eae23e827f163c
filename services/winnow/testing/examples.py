"""One factory for test examples: the content id is always derived, never typed by hand.

Tests need examples in many shapes (SFT or preference, scored, decided, in a tenant and domain);
``make_example`` builds the messages, derives ``id`` with ``example_id`` from exactly the fields
it hashes, and takes any other ``Example`` field as a keyword.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, SourceRef, example_id

SUPPORT_TICKET = "winnow.support_ticket.v1"


def make_example(
    question: str,
    answer: str,
    *,
    rejected: str | None = None,
    kind: ExampleKind | None = None,
    tenant: str = "test",
    system: str | None = None,
    history: Sequence[tuple[Role, str]] = (),
    **fields: Any,
) -> Example:
    """An example answering ``question`` with ``answer``, its id derived from its content.

    ``kind`` defaults to a preference when ``rejected`` is given, else SFT. A preference takes
    ``answer`` as ``chosen``; any other kind ends its messages with ``answer``. Messages are the
    optional ``system`` prompt, the ``history`` turns, then the question. ``fields`` set any other
    ``Example`` field (``domain``, ``scores``, ``decision``, ``source``, ``event_time``...);
    unset, the source is a fresh support-ticket event and the event time is now.
    """
    kind = kind or (ExampleKind.SFT if rejected is None else ExampleKind.PREFERENCE)
    messages = [ChatMessage(role=Role.SYSTEM, content=system)] if system else []
    messages += [ChatMessage(role=role, content=content) for role, content in history]
    messages.append(ChatMessage(role=Role.USER, content=question))
    chosen = None
    if kind is ExampleKind.PREFERENCE:
        chosen = answer
    else:
        messages.append(ChatMessage(role=Role.ASSISTANT, content=answer))
    defaults: dict[str, Any] = {
        "provenance": "human_agent",
        "source": SourceRef(event_id=str(uuid.uuid4()), event_type=SUPPORT_TICKET),
        "event_time": datetime.now(UTC),
    }
    return Example(
        **(defaults | fields),
        id=example_id(
            tenant=tenant, kind=kind, messages=messages, chosen=chosen, rejected=rejected
        ),
        kind=kind,
        tenant=tenant,
        messages=messages,
        chosen=chosen,
        rejected=rejected,
    )
