"""The cross-encoder reward: ranking real support answers, agreement, settings, per-turn API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from winnow.events import ChatMessage, Role
from winnow.scoring import QualityScorer
from winnow.scoring.cross import CrossEncoderReward, cross_available, render_context
from winnow.scoring.runtime import CPU, SessionConfig
from winnow.scoring.tokenizer import PairTokenizer, fit_pair
from winnow.settings import Settings
from winnow.testing.examples import make_example

CASES = Path(__file__).parent / "fixtures" / "cross_reward_cases.json"
RESPONSES = ("answer", "deflection", "goodbye")


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    """Real test-split support contexts with an answer, a deflection and a goodbye."""
    return list(json.loads(CASES.read_text(encoding="utf-8"))["cases"])


@pytest.fixture(scope="module")
def cross(models_dir: Path) -> CrossEncoderReward:
    """The committed int8 cross-encoder on the CPU."""
    assert cross_available(models_dir), "models/reward/cross.int8.onnx is committed"
    return CrossEncoderReward.load(models_dir, SessionConfig(providers=[CPU]))


def context_turns(context: str) -> list[tuple[Role, str]]:
    """The fixture's rendered context back as (role, text) turns."""
    turns = []
    for line in context.split("\n"):
        speaker, _, text = line.partition(": ")
        turns.append((Role.USER if speaker == "Customer" else Role.ASSISTANT, text))
    return turns


def case_scores(cross: CrossEncoderReward, cases: list[dict[str, Any]]) -> np.ndarray:
    contexts = [c["context"] for c in cases for _ in RESPONSES]
    responses = [c[k] for c in cases for k in RESPONSES]
    return cross.raw_scores(contexts, responses).reshape(len(cases), len(RESPONSES))


class TestRanking:
    def test_answer_beats_deflection_and_goodbye(
        self, cross: CrossEncoderReward, cases: list[dict[str, Any]]
    ) -> None:
        """For the same context, the real answer outscores a brush-off and a goodbye."""
        scores = case_scores(cross, cases)
        for case, (answer, deflection, goodbye) in zip(cases, scores, strict=True):
            assert answer > deflection, case["context"][-80:]
            assert answer > goodbye, case["context"][-80:]

    def test_rewards_are_probabilities_ordered_like_scores(
        self, cross: CrossEncoderReward, cases: list[dict[str, Any]]
    ) -> None:
        """The stored reward maps scores into (0, 1) without changing their order."""
        contexts = [c["context"] for c in cases for _ in RESPONSES]
        responses = [c[k] for c in cases for k in RESPONSES]
        raw = cross.raw_scores(contexts, responses)
        reward = cross.reward(contexts, responses)
        assert np.all((reward > 0) & (reward < 1))
        assert list(np.argsort(raw)) == list(np.argsort(reward))

    def test_int8_agrees_with_the_torch_reference(
        self, cross: CrossEncoderReward, cases: list[dict[str, Any]]
    ) -> None:
        """int8 ONNX keeps PyTorch fp32's decisions on every fixture pair, scores close."""
        scores = case_scores(cross, cases)
        reference = np.array([[c["torch_fp32_scores"][k] for k in RESPONSES] for c in cases])
        for got, ref in zip(scores, reference, strict=True):
            assert np.argsort(got)[-1] == np.argsort(ref)[-1]
        spread = reference.std()
        assert np.abs(scores - reference).max() < 0.5 * spread
        assert np.corrcoef(scores.ravel(), reference.ravel())[0, 1] > 0.95


class TestPairEncoding:
    def test_context_is_cut_from_the_left(self) -> None:
        """A long context keeps its last ids; the response keeps its first; budget respected."""
        context, response = list(range(1000)), list(range(5000, 5300))
        ctx, resp = fit_pair(context, response, 128, 0.4)
        assert len(ctx) + len(resp) == 125
        assert ctx == context[-len(ctx) :] and resp == response[: len(resp)]
        assert len(ctx) == int(125 * 0.4)  # the context's guaranteed share, no more

    def test_short_response_leaves_room_for_context(self) -> None:
        ctx, resp = fit_pair(list(range(1000)), [7, 8], 128, 0.4)
        assert resp == [7, 8] and len(ctx) == 123

    def test_pair_layout(self, models_dir: Path) -> None:
        """[CLS] context [SEP] response [SEP], token types 0 then 1, padding masked."""
        tok = PairTokenizer(models_dir / "reward" / "tokenizer.json", 64, 0.4)
        ids, mask, types = tok(["Customer: hello", "Customer: hi"], ["Agent reply here", "ok"])
        row = ids[0][mask[0] == 1].tolist()
        assert row[0] == tok.cls_id and row[-1] == tok.sep_id
        first_sep = row.index(tok.sep_id)
        assert types[0][: first_sep + 1].sum() == 0
        assert types[0][first_sep + 1 : len(row)].min() == 1
        assert mask[1].sum() < mask[0].sum() and ids[1][mask[1] == 0].tolist() == [0] * (
            len(mask[1]) - mask[1].sum()
        )


class TestRenderContext:
    def test_matches_training_rendering(self) -> None:
        """Customer/Agent lines, whitespace collapsed, system turns left out."""
        turns = [
            ChatMessage(role=Role.SYSTEM, content="You are a bot."),
            ChatMessage(role=Role.USER, content="My  order\n is late"),
            ChatMessage(role=Role.ASSISTANT, content="Which order?"),
            ChatMessage(role=Role.USER, content="#123"),
        ]
        assert (
            render_context(turns)
            == "Customer: My order is late\nAgent: Which order?\nCustomer: #123"
        )


class TestSetting:
    def test_cross_is_the_default(self, cpu_settings: Settings) -> None:
        scorer = QualityScorer.from_settings(cpu_settings)
        assert scorer.cross is not None
        assert scorer.model_versions["reward"].startswith("cross-minilm:")

    def test_head_setting_uses_the_head(self, models_dir: Path) -> None:
        settings = Settings(
            models_dir=models_dir, ort_providers=["CPUExecutionProvider"], reward_model="head"
        )
        scorer = QualityScorer.from_settings(settings)
        assert scorer.cross is None
        assert scorer.model_versions["reward"] == scorer.reward.version

    def test_missing_cross_falls_back_to_the_head(self, models_dir: Path, tmp_path: Path) -> None:
        """A models folder without reward/ still scores, with the head."""
        for name in ("embedder", "heads"):
            (tmp_path / name).symlink_to(models_dir / name)
        settings = Settings(models_dir=tmp_path, ort_providers=["CPUExecutionProvider"])
        assert QualityScorer.from_settings(settings).cross is None

    def test_score_batch_uses_the_selected_model(
        self, models_dir: Path, cases: list[dict[str, Any]]
    ) -> None:
        """Through score_batch, cross ranks every answer above its deflection; head differs.

        (On these cases the head ranks one Bitext deflection above its real answer: the
        reason cross is the default.)
        """
        examples = [
            make_example(question, c["answer"], rejected=c["deflection"], history=history)
            for c in cases
            for *history, (_, question) in [context_turns(c["context"])]
        ]
        scored = {}
        for model in ("cross", "head"):
            settings = Settings(
                models_dir=models_dir, ort_providers=["CPUExecutionProvider"], reward_model=model
            )
            scored[model] = QualityScorer.from_settings(settings).score_batch(examples)
        assert all(ex.scores["reward_margin"] > 0 for ex in scored["cross"])
        versions = {m: out[0].model_versions["reward"] for m, out in scored.items()}
        assert (
            versions["cross"].startswith("cross-minilm:") and versions["head"] != versions["cross"]
        )
        assert [e.scores["reward"] for e in scored["cross"]] != [
            e.scores["reward"] for e in scored["head"]
        ]


class TestRewardTurns:
    def test_per_turn_matches_score_batch(self, cpu_settings: Settings) -> None:
        """reward_turns on (turns, response) gives the reward score_batch stores."""
        scorer = QualityScorer.from_settings(cpu_settings)
        history = [
            (Role.USER, "Hi, I need to change my flight"),
            (Role.ASSISTANT, "Sure, which one?"),
        ]
        ex = make_example(
            "Flight BA117 tomorrow", "I have moved BA117 to Friday at 9am.", history=history
        )
        stored = scorer.score_batch([ex])[0].scores["reward"]
        per_turn = scorer.reward_turns([ex.prompt_messages], [ex.answer])
        assert per_turn == [pytest.approx(stored, abs=1e-6)]

    def test_context_changes_the_reward(self, cpu_settings: Settings) -> None:
        """The cross-encoder reads the conversation: the same reply scores differently."""
        scorer = QualityScorer.from_settings(cpu_settings)
        reply = "Your refund of $40 was issued today and reaches your card in 3-5 days."
        asked = [ChatMessage(role=Role.USER, content="Where is my refund for order 881?")]
        other = [ChatMessage(role=Role.USER, content="How do I reset my password?")]
        on_topic, off_topic = scorer.reward_turns([asked, other], [reply, reply])
        assert on_topic > off_topic
        assert scorer.reward_turns([], []) == []
