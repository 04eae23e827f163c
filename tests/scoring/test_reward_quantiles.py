"""Per-domain reward quantiles: the table, the curation bound, the CLI that builds the table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from winnow.agents.config import filter_config, with_min_quantile
from winnow.cli.main import app
from winnow.reasons import DropReason
from winnow.scoring.quantiles import ALL, RewardQuantiles, build_quantiles
from winnow.settings import ScoreLimits, Settings
from winnow.stages.filters.quality import ScoreThresholdFilter
from winnow.testing.examples import make_example

MODEL = "cross-minilm:abc"


def _table() -> RewardQuantiles:
    """Refund answers score high (0.5-1.0), small talk low (0.0-0.5)."""
    rows = [("refund", float(x)) for x in np.linspace(0.5, 1.0, 500)]
    rows += [("small_talk", float(x)) for x in np.linspace(0.0, 0.5, 500)]
    rows += [("rare", 0.9)] * 5
    return build_quantiles(rows, MODEL, min_per_domain=50)


class TestTable:
    def test_same_reward_ranks_by_domain(self) -> None:
        """0.5 is the bottom of refund answers and the top of small talk."""
        table = _table()
        assert table.quantile(0.5, "refund") < 0.02
        assert table.quantile(0.5, "small_talk") > 0.98
        assert table.quantile(0.75, "refund") == pytest.approx(0.5, abs=0.05)

    def test_small_and_unknown_domains_use_the_all_table(self) -> None:
        """Too few rewards (or a domain never seen) fall back to every domain together."""
        table = _table()
        assert "rare" not in table.tables
        assert table.quantile(0.5, "rare") == table.quantile(0.5, None)
        assert table.quantile(0.5, "never_seen") == pytest.approx(0.5, abs=0.05)

    def test_ties_take_the_middle(self) -> None:
        """A reward every reference answer shares ranks at the middle, not at an end."""
        table = build_quantiles([("d", 0.5)] * 60, MODEL)
        assert table.quantile(0.5, "d") == pytest.approx(0.5)
        assert table.quantile(0.1, "d") == 0.0
        assert table.quantile(0.9, "d") == 1.0

    def test_round_trip_and_too_few(self, tmp_path: Path) -> None:
        """The file reloads to the same table; a handful of rewards is refused."""
        path = tmp_path / "q.json"
        path.write_text(_table().to_json(), encoding="utf-8")
        loaded = RewardQuantiles.load(path)
        assert loaded is not None and loaded.model == MODEL
        assert loaded.quantile(0.6, "refund") == pytest.approx(_table().quantile(0.6, "refund"))
        assert RewardQuantiles.load(tmp_path / "missing.json") is None
        with pytest.raises(ValueError, match="too few"):
            build_quantiles([("d", 0.5)] * 3, MODEL)


class TestCurationBound:
    def test_min_quantile_becomes_the_default_bound(self) -> None:
        """WINNOW_REWARD_MIN_QUANTILE drops answers ranked low in their domain."""
        settings = Settings(reward_min_quantile=0.1)
        flt = ScoreThresholdFilter(filter_config(settings).score_thresholds)
        low = make_example("Refund?", "Done.", scores={"reward": 0.9, "reward_quantile": 0.05})
        ok = make_example("Refund?", "Sent.", scores={"reward": 0.3, "reward_quantile": 0.5})
        assert flt.check(low) is DropReason.LOW_REWARD
        assert flt.check(ok) is None

    def test_explicit_json_wins_and_domains_override(self) -> None:
        """A default reward_quantile in the JSON is kept; a domain key still overrides it."""
        thresholds = {
            "default": ScoreLimits(reward_quantile=0.2),
            "domain:refund": ScoreLimits(reward_quantile=0.5),
        }
        merged = with_min_quantile(thresholds, 0.1)
        assert merged["default"].reward_quantile == 0.2
        flt = ScoreThresholdFilter(merged)
        ex = make_example("Refund?", "Sent.", domain="refund", scores={"reward_quantile": 0.4})
        assert flt.check(ex) is DropReason.LOW_REWARD
        assert with_min_quantile({}, None) == {}


class TestCli:
    def test_table_from_scored_examples(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`winnow models reward-quantiles --scored` writes a per-domain table."""
        scored = tmp_path / "scored.jsonl"
        with scored.open("w", encoding="utf-8") as f:
            for i in range(120):
                domain = "refund" if i % 2 else "delivery"
                ex = make_example(
                    f"q{i}",
                    f"a{i}",
                    domain=domain,
                    scores={"reward": i / 120},
                    model_versions={"reward": MODEL},
                )
                f.write(ex.model_dump_json() + "\n")
        out = tmp_path / "quantiles.json"
        monkeypatch.setattr("winnow.scoring.build.cli._setup", lambda: None)
        result = CliRunner().invoke(
            app, ["models", "reward-quantiles", "--scored", str(scored), "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["model"] == MODEL
        assert set(doc["tables"]) == {ALL, "refund", "delivery"}

    def test_mixed_models_refused(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Rewards from two reward models cannot share a table: a one-line error."""
        scored = tmp_path / "scored.jsonl"
        lines = [
            make_example(
                f"q{i}", "a", scores={"reward": 0.5}, model_versions={"reward": f"m{i % 2}"}
            ).model_dump_json()
            for i in range(60)
        ]
        scored.write_text("\n".join(lines) + "\n", encoding="utf-8")
        monkeypatch.setattr("winnow.scoring.build.cli._setup", lambda: None)
        result = CliRunner().invoke(
            app,
            ["models", "reward-quantiles", "--scored", str(scored), "--out", str(tmp_path / "o")],
        )
        assert result.exit_code == 2
        assert "2 reward models" in result.stderr


class TestScorer:
    def test_scorer_ranks_rewards_with_a_matching_table(self, models_dir: Path) -> None:
        """The scorer adds reward_quantile from a table of its own reward model, not another's."""
        from winnow.scoring import QualityScorer

        base = QualityScorer.from_settings(
            Settings(models_dir=models_dir, ort_providers=["CPUExecutionProvider"])
        )
        version = base.model_versions["reward"]
        rows = [(None, float(x)) for x in np.linspace(0.0, 1.0, 200)]

        def scorer(model: str) -> QualityScorer:
            table = build_quantiles(rows, model)
            return QualityScorer(
                base.embedder, base.router, base.reward, cross=base.cross, quantiles=table
            )

        ex = make_example("Where is my refund?", "It was sent today and arrives in 3 days.")
        (scored,) = scorer(version).score_batch([ex])
        assert scored.scores["reward_quantile"] == pytest.approx(scored.scores["reward"], abs=0.02)
        (stale,) = scorer("another-model:123").score_batch([ex])
        assert "reward_quantile" not in stale.scores
