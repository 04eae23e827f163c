"""Head training: the numpy MLP, the data readers, and the custom-taxonomy router path."""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from winnow.cli.main import app
from winnow.scoring.build import datasets as ds
from winnow.scoring.build.mlp import train_classifier, train_pairwise
from winnow.scoring.build.onnx_heads import reward_features, write_reward
from winnow.scoring.heads import OTHER, RewardHead, RouterHead
from winnow.scoring.runtime import SessionConfig
from winnow.settings import Settings, get_settings
from winnow.testing.examples import make_example


class TestMLP:
    def test_classifier_learns_separable_classes(self) -> None:
        """Three Gaussian blobs are told apart almost perfectly."""
        rng = np.random.default_rng(1)
        centres = rng.standard_normal((3, 16)).astype(np.float32) * 3
        y = rng.integers(0, 3, 600)
        x = (centres[y] + rng.standard_normal((600, 16))).astype(np.float32)
        mlp = train_classifier(x, y.astype(np.int64), 3, hidden=16, epochs=20)
        assert (mlp.forward(x)[0].argmax(axis=1) == y).mean() > 0.97

    def test_pairwise_learns_the_preferred_direction(self, tmp_path: Path) -> None:
        """Bradley-Terry training ranks responses along the preferred direction, also in ONNX."""
        rng = np.random.default_rng(2)
        good = np.zeros(8, np.float32)
        good[0] = 1.0
        prompts = rng.standard_normal((400, 8)).astype(np.float32)
        chosen = (rng.standard_normal((400, 8)) + good).astype(np.float32)
        rejected = (rng.standard_normal((400, 8)) - good).astype(np.float32)
        mlp = train_pairwise(
            reward_features(prompts, chosen),
            reward_features(prompts, rejected),
            hidden=0,
            epochs=40,
            lr=1e-2,
        )
        write_reward(mlp, 8, {"head": "reward"}, tmp_path / "reward.onnx")
        head = RewardHead(tmp_path / "reward.onnx", SessionConfig())
        r_c, r_r = head.reward(prompts, chosen), head.reward(prompts, rejected)
        assert (r_c > r_r).mean() > 0.85
        assert ((r_c > 0) & (r_c < 1)).all()


class TestDatasets:
    @pytest.mark.datasets
    def test_hh_rlhf_pairs(self, data_root: Path) -> None:
        """HH-RLHF yields last-turn prompts with differing final answers, none empty."""
        pairs = ds.hh_rlhf(data_root)
        assert len(pairs) > 5000
        assert all(p.prompt and p.chosen and p.rejected != p.chosen for p in pairs)
        # A few upstream dialogues break the "\n\nHuman:" format; they stay rare.
        leaked = [p for p in pairs if "Human:" in p.chosen or "Assistant:" in p.chosen]
        assert len(leaked) < 0.01 * len(pairs)

    def test_hh_rlhf_sample_pairs(self, sample_data: Path) -> None:
        """The vendored HH-RLHF lines (100 per subset) give a pair for almost every dialogue."""
        pairs = ds.hh_rlhf(sample_data)
        assert 280 <= len(pairs) <= 300
        assert all(p.prompt and p.chosen and p.rejected != p.chosen for p in pairs)

    def test_qa_feedback_pairs(self, sample_data: Path) -> None:
        """QA-Feedback gives preference pairs and correction-over-prediction pairs."""
        sources = {p.source for p in ds.qa_feedback(sample_data)}
        assert sources == {"qa-feedback/preference", "qa-feedback/correction"}

    def test_split_is_stable_and_disjoint(self) -> None:
        """The held-out split depends only on the key, and holds about the asked fraction."""
        keys = [f"question {i}" for i in range(2000)]
        held = [k for k in keys if ds.held_out(k, 0.2)]
        assert held == [k for k in keys if ds.held_out(k, 0.2)]
        assert 0.15 < len(held) / len(keys) < 0.25

    def test_labelled_csv_needs_two_labels(self, tmp_path: Path) -> None:
        """A CSV with a single label is refused with a clear error."""
        path = tmp_path / "one.csv"
        path.write_text("text,label\nhello,a\nworld,a\n", encoding="utf-8")
        with pytest.raises(ds.TrainingDataError, match="two labels"):
            ds.labelled_csv(path)


BANKING_LABELS = [
    "activate_my_card",
    "age_limit",
    "apple_pay_or_google_pay",
    "atm_support",
    "card_arrival",
    "card_payment_fee_charged",
    "cash_withdrawal_charge",
    "change_pin",
    "exchange_rate",
    "lost_or_stolen_card",
    "top_up_failed",
    "transfer_not_received_by_recipient",
]


def banking_subset(data_root: Path, dest: Path, per_label: int) -> list[str]:
    """Write a BANKING77 subset (12 intents) as text,label; return its labels, sorted."""
    rows: dict[str, list[str]] = defaultdict(list)
    with (data_root / "banking77" / "train.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows[row["category"]].append(row["text"])
    chosen = sorted(BANKING_LABELS)
    assert set(chosen) <= set(rows)
    rng = random.Random(0)
    with dest.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for label in chosen:
            texts = rows[label]
            rng.shuffle(texts)
            writer.writerows([t, label] for t in texts[:per_label])
    return chosen


@pytest.mark.datasets
class TestCustomTaxonomy:
    def test_banking77_router_via_cli(
        self, models_dir: Path, data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`winnow models train router --data` trains a BANKING77 router that routes its intents."""
        csv_path = tmp_path / "banking.csv"
        labels = banking_subset(data_root, csv_path, per_label=60)
        # configure_logging binds structlog to CliRunner's stderr, closed after the run; the
        # scorer used below would then log into a closed file.
        monkeypatch.setattr("winnow.scoring.build.cli._setup", lambda: None)
        monkeypatch.setenv("WINNOW_MODELS_DIR", str(models_dir))
        monkeypatch.setenv("WINNOW_DATA_DIR", str(tmp_path / "var"))
        get_settings.cache_clear()
        out = tmp_path / "heads"
        result = CliRunner().invoke(
            app,
            [
                "models",
                "train",
                "router",
                "--data",
                str(csv_path),
                "--data-root",
                str(data_root),
                "--out-dir",
                str(out),
            ],
        )
        get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout[result.stdout.index("{\n") :])
        assert summary["closed_set_accuracy"] > 0.8
        assert summary["oos_rejection"] > 0.8
        router = RouterHead(out / "router.onnx", SessionConfig())
        assert router.labels == [*labels, OTHER]
        assert "banking.csv" in (out / "router.md").read_text(encoding="utf-8")
        assert (models_dir / "heads" / "router.onnx").is_file()  # the committed head is untouched

        from winnow.scoring import QualityScorer

        scorer = QualityScorer.from_settings(
            Settings(models_dir=models_dir, ort_providers=["CPUExecutionProvider"])
        )
        scorer.router = router
        (card_q, noise) = scorer.score_batch(
            [
                make_example("When will my new card arrive in the post?", "Soon."),
                make_example("zxqv plorkt wibble", "?"),
            ]
        )
        assert card_q.domain == "card_arrival"
        assert noise.domain == OTHER

    def test_reward_flag_data_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """--data is for the router only."""
        monkeypatch.setattr("winnow.scoring.build.cli._setup", lambda: None)
        result = CliRunner().invoke(app, ["models", "train", "reward", "--data", "x.csv"])
        assert result.exit_code != 0
