"""Which agent turns of a conversation are judged, and against what context.

A support conversation is judged turn by turn: each substantive agent turn (training weight 1) is
scored against the customer's issue statement plus the customer message it answers (the nearest
user turn before it). Greetings, identity checks and closing small talk are neither judged nor
trained on. The example's quality is the mean over its judged turns; the weakest turn is kept
as ``reward_min`` so curation can reject a conversation with one bad answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from winnow.events import Role
from winnow.example import Example
from winnow.stages.ticket import issue_of


@dataclass(frozen=True, slots=True)
class JudgedTurn:
    """One agent turn to score: its position, the context it answers and its text."""

    index: int
    context: str
    answer: str


def judged_turns(example: Example) -> list[JudgedTurn]:
    """The substantive agent turns of a weighted conversation (empty for any other example)."""
    if not example.weighted:
        return []
    messages = example.messages
    issue = issue_of(messages)
    out: list[JudgedTurn] = []
    for i, message in enumerate(messages):
        if message.role is not Role.ASSISTANT or message.weight != 1:
            continue
        nearest = next((m.content for m in reversed(messages[:i]) if m.role is Role.USER), "")
        # The issue first: with the embedder's 256-token window, whatever is cut is the tail.
        context = issue if nearest in ("", issue) else f"{issue}\n{nearest}" if issue else nearest
        out.append(JudgedTurn(i, context, message.content))
    return out
