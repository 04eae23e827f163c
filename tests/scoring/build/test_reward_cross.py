"""Cross-encoder training code: pairs, length balancing, metrics, a tiny real training run."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from winnow.scoring.build.reward_eval import evaluate, selection_score, summarise, wilson
from winnow.scoring.build.reward_negatives import negative, pick_kinds
from winnow.scoring.build.reward_text import Pair, render_context, split_of

torch = pytest.importorskip("torch", reason="the build extra (torch) is not installed")


def pair(chosen: str, rejected: str, source: str = "hh/helpful-base") -> Pair:
    domain = "support" if source.startswith("support") else "general"
    return {
        "context": "Customer: hi",
        "chosen": chosen,
        "rejected": rejected,
        "source": source,
        "domain": domain,
        "kind": "deflect" if domain == "support" else "human",
    }


class TestPairs:
    def test_split_is_stable_and_by_key(self) -> None:
        """A prompt key always lands in the same split, and the splits are ~80/10/10."""
        keys = [f"question {i}" for i in range(3000)]
        splits = [split_of(k) for k in keys]
        assert splits == [split_of(k) for k in keys]
        assert 0.77 < splits.count("train") / 3000 < 0.83

    def test_context_rendering(self) -> None:
        turns = [("customer", "my  card\nwas charged"), ("agent", "Which card?")]
        assert render_context(turns) == "Customer: my card was charged\nAgent: Which card?"

    def test_negatives_differ_from_the_answer(self) -> None:
        """Every kind of synthetic negative changes the answer; pad makes it longer."""
        rng = random.Random(3)
        answer = "Open Settings, choose Billing, then Refunds. The refund takes 3 days. Thanks."
        for kind in ("deflect", "truncate", "other", "rude", "pad"):
            assert negative(kind, answer, "An unrelated answer about shipping.", rng) != answer
        assert len(negative("pad", answer, "Other text.", rng)) > len(answer)
        assert len(set(pick_kinds(rng, 3))) == 3


class TestMetrics:
    def test_length_slices_and_baseline(self) -> None:
        """Accuracy splits by whether the chosen answer is longer; the baseline picks longer."""
        pairs = [pair("long answer here", "short"), pair("tiny", "a much longer reply")]
        result = summarise(pairs, [(1.0, 0.0), (0.0, 1.0)])
        assert result["acc"] == 0.5 and result["length_baseline"] == 0.5
        assert result["acc_chosen_longer"] == 1.0 and result["acc_chosen_shorter"] == 0.0
        lo, hi = result["ci95"]
        assert lo < 0.5 < hi

    def test_wilson_narrows_with_n(self) -> None:
        small, large = wilson(8, 10), wilson(800, 1000)
        assert small[1] - small[0] > large[1] - large[0]

    def test_selection_penalises_support_below_095(self) -> None:
        helpful = [pair("long answer here", "short"), pair("tiny", "a much longer reply")]
        support = [pair("good answer text", "bad", "support/bitext") for _ in range(10)]
        good = evaluate(helpful + support, [(1.0, 0.0)] * 12)
        bad = evaluate(helpful + support, [(1.0, 0.0)] * 2 + [(0.0, 1.0)] * 10)
        assert selection_score(good, "acceptance") == 1.0
        assert selection_score(bad, "acceptance") == pytest.approx(1.0 - 0.95)


class TestTraining:
    @pytest.mark.slow
    def test_tiny_run_learns_and_round_trips(self, tmp_path: Path) -> None:
        """A few steps on support pairs separate answer from deflection; the saved run reloads."""
        from winnow.scoring.build.export import weights_dir
        from winnow.scoring.build.reward_cross import CrossTrainConfig, Trainer
        from winnow.scoring.build.reward_job import save_run
        from winnow.scoring.build.reward_model import load_finetuned, score_pairs

        torch.set_num_threads(1)
        base = weights_dir()
        answers = [f"Your order {i} ships today and arrives on Friday." for i in range(8)]
        train = [pair(a, "Please contact support.", "support/bitext") for a in answers]
        cfg = CrossTrainConfig(
            base=base, max_length=32, batch_size=4, epochs=3, lr=1e-4, evals_per_epoch=1
        )
        trainer = Trainer(cfg, base / "tokenizer.json", torch.device("cpu"))
        best = trainer.fit(train, train[:4], deadline=float("inf"), log=lambda _m: None)
        assert best.val["overall"]["acc"] == 1.0
        save_run(
            tmp_path,
            trainer.model,
            {"bert_config": trainer.base_config, "pooling": "mean", "max_length": 32},
            {"val": best.val},
        )
        parts = json.loads((tmp_path / "config.json").read_text())["parts"]
        assert len(parts) == 4  # 45 MB of fp16 weights in chunks under 15 MB
        assert all((tmp_path / p).stat().st_size <= 14_000_000 for p in parts)
        model, _ = load_finetuned(tmp_path)
        before = score_pairs(trainer.model, trainer.batcher, train[:2], torch.device("cpu"), 4)
        after = score_pairs(model, trainer.batcher, train[:2], torch.device("cpu"), 4)
        for (c0, _), (c1, r1) in zip(before, after, strict=True):
            assert c1 > r1 and abs(c0 - c1) < 0.05  # fp16 weights on disk
