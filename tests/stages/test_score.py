"""The scoring stage: a failing example is dead-lettered alone, with its error cut short."""

from __future__ import annotations

from winnow.example import Example
from winnow.stages.decode import Coordinates
from winnow.stages.score import heuristic_batch, score_isolating
from winnow.stages.validate import validate_record
from winnow.testing.fixtures import as_bytes, ticket_event

ANSWERS = [
    "Your parcel was rerouted to the new address and arrives on Friday morning.",
    "I've refunded the second charge; it will be back on your card within five days.",
]


def _example(answer: str, offset: int) -> Example:
    doc = ticket_event("I need help with my account, please.", answer)
    out = validate_record(as_bytes(doc), Coordinates("t", 0, offset), max_bytes=262_144)
    assert isinstance(out, list)
    return out[0]


def test_a_poison_example_fails_alone_with_its_error_cut_to_500_characters() -> None:
    """The other examples are scored; the poison one comes back as ``Type: message``."""
    good, bad = _example(ANSWERS[0], 0), _example(ANSWERS[1], 1)

    def score(examples: list[Example]) -> list[Example]:
        if any(e.id == bad.id for e in examples):
            raise ValueError("x" * 1000)
        return heuristic_batch(examples)

    scored, poison = score_isolating(score, [good, bad])
    assert [e.id for e in scored] == [good.id]
    assert scored[0].scores["answer_chars"] == float(len(good.answer))
    assert [(e.id, msg) for e, msg in poison] == [(bad.id, ("ValueError: " + "x" * 1000)[:500])]


def test_an_empty_batch_is_not_scored() -> None:
    """Nothing to score: the scorer is not called (a model may refuse an empty batch)."""

    def refuse(examples: list[Example]) -> list[Example]:
        raise AssertionError("called")

    assert score_isolating(refuse, []) == ([], [])
