"""Support conversations in the scorer: routed by the issue, judged turn by turn."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conversations import as_ticket_event, dialogue, dialogues

from winnow.events import SOURCE_EVENT_ADAPTER, Role
from winnow.example import Example
from winnow.scoring import QualityScorer
from winnow.settings import Settings
from winnow.stages.decode import Coordinates
from winnow.stages.normalise import NormaliseOptions, event_to_examples


@pytest.fixture(scope="module")
def scorer(models_dir: Path) -> QualityScorer:
    """One CPU scorer for the module."""
    return QualityScorer.from_settings(
        Settings(models_dir=models_dir, ort_providers=["CPUExecutionProvider"])
    )


def _ticket(d: dict, options: NormaliseOptions | None = None, **data: object) -> Example:  # type: ignore[type-arg]
    doc = as_ticket_event(d, **data)
    event = SOURCE_EVENT_ADAPTER.validate_python(doc)
    [ex] = event_to_examples(event, Coordinates("t", 0, 0), options)
    return ex


def test_real_conversations_are_routed_by_their_issue(scorer: QualityScorer) -> None:
    """Nine vendored STAR/MultiDoGO tickets, all ending in small talk, reach their category."""
    ds = dialogues()
    scored = scorer.score_batch([_ticket(d) for d in ds])
    assert [ex.domain for ex in scored] == [d["category"] for d in ds]
    # What the last customer turn alone says is small talk: the issue, not it, decides.
    assert all(ex.messages[-1].role is Role.ASSISTANT for ex in scored)


def test_every_substantive_turn_is_scored_and_averaged(scorer: QualityScorer) -> None:
    """Per-turn scores for weight-1 turns only; the example's reward is their mean."""
    [ex] = scorer.score_batch([_ticket(dialogue("bank_fraud_report"))])
    trained = [i for i, m in enumerate(ex.messages) if m.weight == 1]
    assert [t.index for t in ex.turn_scores] == trained == [9, 11]
    rewards = [t.reward for t in ex.turn_scores]
    assert all(0.0 < r < 1.0 for r in rewards)
    assert ex.scores["reward"] == pytest.approx(sum(rewards) / 2)
    assert ex.scores["reward_min"] == pytest.approx(min(rewards))
    assert ex.scores["turns_judged"] == 2.0
    assert ex.domain == "payment"


def test_producer_category_wins_and_agreement_is_recorded(scorer: QualityScorer) -> None:
    """A mapped producer category is the domain; ``router_agrees`` says if the router agrees."""
    options = NormaliseOptions(category_map={"fraud": "payment", "hotels": "order"})
    d = dialogue("bank_fraud_report")
    agree, disagree = scorer.score_batch(
        [_ticket(d, options, category="Fraud"), _ticket(d, options, category="hotels")]
    )
    assert (agree.domain, agree.scores["router_agrees"]) == ("payment", 1.0)
    assert (disagree.domain, disagree.scores["router_agrees"]) == ("order", 0.0)


def test_examples_without_weights_keep_their_scores(scorer: QualityScorer) -> None:
    """Chat feedback and synthetic examples have no turns judged: no per-turn scores."""
    from winnow.testing.examples import make_example

    [ex] = scorer.score_batch([make_example("Where is my parcel?", "It ships Friday.")])
    assert ex.turn_scores == [] and "turns_judged" not in ex.scores
