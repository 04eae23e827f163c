"""Router calibration: temperature, false-reject threshold, the in-scope-mass rule at run time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from winnow.scoring.build import datasets as ds
from winnow.scoring.build import router_calibration as rc
from winnow.scoring.build.mlp import MLP, softmax
from winnow.scoring.build.onnx_heads import write_router
from winnow.scoring.exceptions import ScoringError
from winnow.scoring.heads import OTHER, RouterHead
from winnow.scoring.runtime import SessionConfig


def _router(path: Path, meta: dict[str, str], logits_bias: list[float]) -> RouterHead:
    """A router whose probabilities ignore the input: softmax of ``logits_bias``."""
    classes = len(logits_bias)
    mlp = MLP(None, None, np.zeros((4, classes), np.float32), np.array(logits_bias, np.float32))
    write_router(mlp, 4, meta, path)
    return RouterHead(path, SessionConfig())


class TestSplits:
    def test_three_way_split_keeps_the_report_split(self) -> None:
        """The report split is exactly the old held-out 15%; calibration is disjoint from it."""
        keys = [f"how do I do thing {i}" for i in range(3000)]
        parts = {k: ds.split_of(k) for k in keys}
        assert [k for k in keys if parts[k] == "report"] == [
            k for k in keys if ds.held_out(k, 0.15)
        ]
        share = sum(v == "calibration" for v in parts.values()) / len(keys)
        assert 0.07 < share < 0.13


class TestCalibration:
    def test_temperature_recovers_an_overconfident_scale(self) -> None:
        """Logits three times too sharp are brought back to a temperature near 3."""
        rng = np.random.default_rng(0)
        true_logits = rng.standard_normal((4000, 5)).astype(np.float32)
        p = softmax(true_logits)
        y = np.array([rng.choice(5, p=row / row.sum()) for row in p], np.int64)
        assert 2.5 <= rc.fit_temperature(true_logits * 3, y) <= 3.5

    def test_threshold_meets_the_false_reject_target(self) -> None:
        """At most the target share of in-scope texts falls under the chosen threshold."""
        rng = np.random.default_rng(1)
        p_other = rng.uniform(0, 0.2, 1000).astype(np.float32)
        probs = np.stack([1 - p_other, p_other], axis=1).astype(np.float32)
        y = np.zeros(1000, np.int64)
        threshold = rc.threshold_for_false_reject(probs, y, 0.05)
        rejected = (rc.in_scope_score(probs) < threshold).mean()
        assert 0.04 <= rejected <= 0.05

    def test_mass_rule_keeps_split_intents_in_scope(self) -> None:
        """Two close intents sharing the probability stay in scope; a confident `other` does not."""
        probs = np.array([[0.48, 0.47, 0.05], [0.2, 0.1, 0.7]], np.float32)
        assert rc.route(probs, 0.9).tolist() == [0, 2]
        metrics = rc.open_set_metrics(probs, np.array([0, 2]), 0.9)
        assert metrics["in_scope_accuracy"] == 1.0
        assert metrics["oos_rejection"] == 1.0

    def test_other_wins_when_most_probable(self) -> None:
        """A low threshold never keeps a text whose most probable class is ``other``."""
        probs = np.array([[0.3, 0.2, 0.5]], np.float32)
        assert rc.route(probs, 0.3).tolist() == [2]

    def test_forced_rejects_use_up_the_budget(self) -> None:
        """In-scope texts already sent to other by argmax leave less room for the threshold."""
        probs = np.array([[0.2, 0.1, 0.7]] * 5 + [[0.9, 0.05, 0.05]] * 95, np.float32)
        y = np.zeros(100, np.int64)
        # 5% budget, all taken by the forced rejects: nothing else may be rejected.
        threshold = rc.threshold_for_false_reject(probs, y, 0.05)
        assert (rc.route(probs, threshold) == 2).sum() == 5

    def test_reliability_of_perfectly_calibrated_bins(self) -> None:
        """A top probability of 0.8 right 80% of the time has no calibration error."""
        probs = np.tile(np.array([[0.8, 0.2]], np.float32), (10, 1))
        y = np.array([0] * 8 + [1] * 2, np.int64)
        rel = rc.reliability(probs, y)
        assert rel.ece == pytest.approx(0.0, abs=1e-6)
        assert sum(rel.counts) == 10

    def test_reliability_plot_is_written(self, tmp_path: Path) -> None:
        """The diagram is a PNG file."""
        probs = np.array([[0.9, 0.1], [0.3, 0.7]], np.float32)
        rel = rc.reliability(probs, np.array([0, 1], np.int64))
        path = rc.plot_reliability(rel, rel, "test", tmp_path / "img" / "rel.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class TestRouterRule:
    LABELS = json.dumps(["card_arrival", "card_delivery", OTHER])

    def test_in_scope_mass_rule_routes_a_split_text(self, tmp_path: Path) -> None:
        """Under in_scope_mass a text split between two intents keeps the top in-scope label."""
        meta = {"labels": self.LABELS, "threshold": "0.9", "rule": "in_scope_mass"}
        router = _router(tmp_path / "r.onnx", meta, [1.0, 0.9, -2.0])
        labels, conf = router.route(np.zeros((1, 4), np.float32))
        assert labels == ["card_arrival"]
        assert 0.4 < conf[0] < 0.6  # the top probability

    def test_top_probability_rule_is_the_default(self, tmp_path: Path) -> None:
        """A head without the rule key keeps the old behaviour: the same text goes to other."""
        meta = {"labels": self.LABELS, "threshold": "0.9"}
        router = _router(tmp_path / "r.onnx", meta, [1.0, 0.9, -2.0])
        assert router.route(np.zeros((1, 4), np.float32))[0] == [OTHER]

    def test_mass_rule_rejects_a_confident_other(self, tmp_path: Path) -> None:
        """A high p(other) sends the text to other, with p(other) as its confidence."""
        meta = {"labels": self.LABELS, "threshold": "0.9", "rule": "in_scope_mass"}
        router = _router(tmp_path / "r.onnx", meta, [0.0, 0.0, 2.0])
        labels, conf = router.route(np.zeros((1, 4), np.float32))
        assert labels == [OTHER]
        assert conf[0] > 0.7

    def test_unknown_rule_refused(self, tmp_path: Path) -> None:
        """A head with a rule this runtime does not know fails at load, not silently."""
        meta = {"labels": self.LABELS, "threshold": "0.9", "rule": "energy"}
        with pytest.raises(ScoringError, match="unknown rule"):
            _router(tmp_path / "r.onnx", meta, [0.0, 0.0, 0.0])
