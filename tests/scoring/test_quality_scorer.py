"""QualityScorer on real support examples: reward, relevance, domain, flags, versions."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from winnow.errors import WinnowError
from winnow.events import Role
from winnow.example import Example
from winnow.scoring import TRUNCATED_FLAG, ModelsNotBuiltError, QualityScorer
from winnow.settings import Settings
from winnow.testing.examples import make_example

LLM_CSV = "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"


@pytest.fixture(scope="module")
def scorer(models_dir: Path) -> QualityScorer:
    """One CPU scorer for the module (loading takes about a second)."""
    return QualityScorer.from_settings(
        Settings(models_dir=models_dir, ort_providers=["CPUExecutionProvider"])
    )


def bitext_examples(data_root: Path, n: int) -> list[Example]:
    """``n`` real question/answer pairs from the Bitext support data, one per category."""
    seen: set[str] = set()
    out: list[Example] = []
    with (data_root / LLM_CSV).open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["category"] not in seen:
                seen.add(row["category"])
                out.append(make_example(row["instruction"], row["response"]))
    return out[:n]


class TestScoreBatch:
    def test_real_examples_get_every_score(self, scorer: QualityScorer, sample_data: Path) -> None:
        """Each example gets reward and relevance in range, a domain and every model version."""
        examples = bitext_examples(sample_data, 11)
        scored = scorer.score_batch(examples)
        assert len(scored) == 11
        for ex in scored:
            assert 0.0 < ex.scores["reward"] < 1.0
            assert 0.2 < ex.scores["relevance"] <= 1.0  # a real answer to its own question
            assert 0.0 < ex.scores["domain_confidence"] <= 1.0
            assert ex.domain is not None
            assert set(ex.model_versions) == {"embedder", "router", "reward", "relevance"}
            assert ex.model_versions["embedder"].startswith("minilm-l6-v2:int8:")
        # Originals are untouched: the scorer returns copies.
        assert all(not ex.scores and ex.domain is None for ex in examples)

    def test_relevance_prefers_the_matching_answer(self, scorer: QualityScorer) -> None:
        """An answer to the question scores higher relevance than an answer about something else."""
        q = "How can I get a refund for the order I returned last week?"
        good = "Your refund was issued today; it reaches your card in 3 to 5 business days."
        off = "Our newsletter comes out every Monday with product tips and recipes."
        on, away = scorer.score_batch([make_example(q, good), make_example(q, off)])
        assert on.scores["relevance"] > away.scores["relevance"] + 0.2

    def test_bucketing_keeps_input_order(self, models_dir: Path, sample_data: Path) -> None:
        """Scores in one mixed-length batch equal the scores of each example scored alone."""
        # fp32 and the head: int8 (the embedder's and the cross-encoder's) quantises activations
        # per batch, so its scores move slightly with batch-mates (up to ~0.03 in reward).
        scorer = QualityScorer.from_settings(
            Settings(
                models_dir=models_dir,
                ort_providers=["CPUExecutionProvider"],
                embedder_precision="fp32",
                score_batch_max=4,
                reward_model="head",
            )
        )
        examples = bitext_examples(sample_data, 8)
        examples.insert(3, make_example("hi", "hello " * 300))
        together = scorer.score_batch(examples)
        alone = [scorer.score_batch([ex])[0] for ex in examples]
        for a, b in zip(together, alone, strict=True):
            assert a.id == b.id
            for key in ("reward", "relevance", "domain_confidence"):
                assert a.scores[key] == pytest.approx(b.scores[key], abs=1e-4)

    def test_truncated_flag(self, models_dir: Path) -> None:
        """An answer over max_tokens is flagged `truncated`; a short one is not."""
        settings = Settings(
            models_dir=models_dir, ort_providers=["CPUExecutionProvider"], max_tokens=32
        )
        small = QualityScorer.from_settings(settings)
        long_ex = make_example("Where is my order?", "It shipped yesterday. " * 40)
        short_ex = make_example("Where is my order?", "It shipped yesterday.")
        flagged, plain = small.score_batch([long_ex, short_ex])
        assert TRUNCATED_FLAG in flagged.flags
        assert TRUNCATED_FLAG not in plain.flags

    def test_preference_scores_both_sides(self, scorer: QualityScorer) -> None:
        """A preference example also gets the rejected answer's reward and the margin."""
        ex = make_example(
            "Can I cancel my order?",
            "Yes: open Orders, choose the order and click Cancel; you get a confirmation email.",
            rejected="no",
        )
        (scored,) = scorer.score_batch([ex])
        margin = scored.scores["reward"] - scored.scores["reward_rejected"]
        assert scored.scores["reward_margin"] == pytest.approx(margin)

    def test_multi_turn_uses_last_user_turn(self, scorer: QualityScorer) -> None:
        """Relevance compares the answer with the last customer turn, not the first one."""
        history = [(Role.USER, "Hi there"), (Role.ASSISTANT, "Hello! How can I help?")]
        q = "What is the delivery time to Canada?"
        a = "Delivery to Canada takes 5 to 7 business days."
        multi, single = scorer.score_batch(
            [make_example(q, a, history=history), make_example(q, a)]
        )
        assert multi.scores["relevance"] == pytest.approx(single.scores["relevance"], abs=1e-4)

    def test_empty_batch(self, scorer: QualityScorer) -> None:
        """An empty batch returns an empty list without touching the models."""
        assert scorer.score_batch([]) == []


class TestRouter:
    def test_refund_questions_route_to_refund(self, scorer: QualityScorer) -> None:
        """Clear Bitext-style refund questions land in `refund` with high confidence."""
        questions = [
            "I want a refund for my purchase",
            "how do I get my money back?",
            "can you tell me the status of my refund?",
            "what is your refund policy",
        ]
        scored = scorer.score_batch(
            [make_example(q, "Let me check that for you.") for q in questions]
        )
        assert [ex.domain for ex in scored] == ["refund"] * 4

    def test_other_categories(self, scorer: QualityScorer) -> None:
        """Questions of other support categories get their own label."""
        cases = {
            "I need to change my shipping address": "shipping",
            "please unsubscribe me from the newsletter": "newsletter",
            "I can't find my invoice for last month": "invoice",
            "how do I reset my password": "account",
        }
        scored = scorer.score_batch([make_example(q, "Sure.") for q in cases])
        assert [ex.domain for ex in scored] == list(cases.values())

    def test_nonsense_and_out_of_scope_go_to_other(self, scorer: QualityScorer) -> None:
        """Gibberish and unrelated requests are routed to `other`."""
        questions = [
            "asdf qwerty zxcv",
            "what's the weather like in Paris tomorrow?",
            "tell me a joke about penguins",
            "how many calories are in an avocado",
        ]
        scored = scorer.score_batch([make_example(q, "Sorry?") for q in questions])
        assert [ex.domain for ex in scored] == ["other"] * 4

    def test_min_confidence_override(self, models_dir: Path) -> None:
        """WINNOW_ROUTER_MIN_CONFIDENCE=1.0 sends everything to `other`, keeping confidences."""
        strict = QualityScorer.from_settings(
            Settings(
                models_dir=models_dir,
                ort_providers=["CPUExecutionProvider"],
                router_min_confidence=1.0,
            )
        )
        (ex,) = strict.score_batch([make_example("I want a refund", "OK")])
        assert ex.domain == "other"
        assert ex.scores["domain_confidence"] > 0.5


class TestLoading:
    def test_missing_models_raise_models_not_built(self, tmp_path: Path) -> None:
        """An empty models folder raises ModelsNotBuiltError, a WinnowError naming the fix."""
        with pytest.raises(ModelsNotBuiltError, match="winnow models") as info:
            QualityScorer.from_settings(Settings(models_dir=tmp_path))
        assert isinstance(info.value, WinnowError)

    def test_missing_embedder_raises(self, tmp_path: Path, models_dir: Path) -> None:
        """Heads present but no built embedder still raises ModelsNotBuiltError."""
        (tmp_path / "heads").mkdir()
        for name in ("router.onnx", "reward.onnx"):
            (tmp_path / "heads" / name).write_bytes((models_dir / "heads" / name).read_bytes())
        with pytest.raises(ModelsNotBuiltError, match="models build"):
            QualityScorer.from_settings(Settings(models_dir=tmp_path))

    def test_embeddings_are_unit_length(self, scorer: QualityScorer) -> None:
        """The in-graph pooling returns L2-normalised vectors."""
        vectors = scorer.embedder.embed(["hello", "a longer sentence about refunds"]).vectors
        assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-4)
