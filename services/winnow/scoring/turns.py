"""Which agent turns of a conversation are judged, and against what context.

A support conversation is judged turn by turn: each substantive agent turn (training weight 1) is
scored against the customer's issue statement plus the customer message it answers (the nearest
user turn before it). Greetings, identity checks and closing small talk are neither judged nor
trained on. The example's quality is the mean over its judged turns; the weakest turn is kept
as ``reward_min`` so curation can reject a conversation with one bad answer.
"""

from __future__ import annotations

from winnow.example import Example
from winnow.stages.ticket import JudgedTurn, judged_turns_of

__all__ = ["JudgedTurn", "judged_turns", "judged_turns_of"]


def judged_turns(example: Example) -> list[JudgedTurn]:
    """The substantive agent turns of a weighted conversation (empty for any other example)."""
    if not example.weighted:
        return []
    return judged_turns_of(example.messages)
