"""PSI values on known distributions and the pinned / rolling reference."""

from __future__ import annotations

import json
import math

import pytest
from tests.monitor.helpers import T0, example_doc, window

from winnow.monitor.drift import EPSILON, DriftDetector, histograms, mix_psi, psi
from winnow.monitor.window import WindowStats, WindowSummary


class TestPsi:
    def test_identical_is_zero(self) -> None:
        """Equal distributions (counts at any scale) have PSI 0."""
        assert psi([10, 20, 70], [1, 2, 7]) == pytest.approx(0.0)

    def test_known_value(self) -> None:
        """PSI of (0.5, 0.5) against (0.9, 0.1) matches the closed form."""
        expected = (0.9 - 0.5) * math.log(0.9 / 0.5) + (0.1 - 0.5) * math.log(0.1 / 0.5)
        assert psi([50, 50], [90, 10]) == pytest.approx(expected)
        assert expected == pytest.approx(0.8789, abs=1e-4)

    def test_empty_bin_uses_epsilon(self) -> None:
        """An empty bin is floored at EPSILON, so PSI stays finite and large."""
        value = psi([100, 0], [50, 50])
        expected = (0.5 - 1.0) * math.log(0.5) + (0.5 - EPSILON) * math.log(0.5 / EPSILON)
        assert value == pytest.approx(expected)

    def test_mix_psi_over_union(self) -> None:
        """A domain missing on one side counts as an empty bin."""
        assert mix_psi({"a": 50, "b": 50}, {"a": 50, "b": 50}) == pytest.approx(0)
        assert mix_psi({"a": 100}, {"a": 50, "b": 50}) > 1

    def test_bins_must_match(self) -> None:
        """Histograms over different bins are refused."""
        with pytest.raises(ValueError, match="same bins"):
            psi([1, 2], [1, 2, 3])


class TestDriftDetector:
    def test_rolling_reference_detects_score_shift(self) -> None:
        """A reward shift from 0.85 to 0.15 gives a large score PSI; stable windows give ~0."""
        d = DriftDetector("rolling", reference_windows=2, min_samples=50)
        assert d.update(window(good=100)) == {}
        stable = d.update(window(good=100))
        assert stable["score:reward"] == pytest.approx(0.0)
        shifted = d.update(window(good=100, reward=0.15))
        assert shifted["score:reward"] > 5
        assert shifted["length"] == pytest.approx(0.0)

    def test_pinned_reference_stays(self) -> None:
        """A pinned reference keeps the first windows: a lasting shift keeps drifting."""
        d = DriftDetector("pinned", reference_windows=1, min_samples=50)
        d.update(window(good=100))
        for _ in range(3):
            assert d.update(window(good=100, reward=0.15))["score:reward"] > 5

    def test_rolling_reference_follows(self) -> None:
        """A rolling reference absorbs a lasting shift after its windows have passed."""
        d = DriftDetector("rolling", reference_windows=1, min_samples=50)
        d.update(window(good=100))
        assert d.update(window(good=100, reward=0.15))["score:reward"] > 5
        assert d.update(window(good=100, reward=0.15))["score:reward"] == pytest.approx(0)

    def test_small_windows_are_skipped(self) -> None:
        """Windows under min_samples produce no drift value."""
        d = DriftDetector("rolling", reference_windows=1, min_samples=50)
        d.update(window(good=100))
        assert d.update(window(good=10, reward=0.15)) == {}


def mixed_window(curated: int, rejected: int, *, rejected_reward: float = 0.15) -> WindowSummary:
    """Curated examples with reward 0.8 and rejected ones with ``rejected_reward``."""
    stats = WindowStats(T0)
    for i in range(curated):
        stats.add("curated", json.dumps(example_doc(i, reward=0.8)).encode(), at=T0)
    for i in range(rejected):
        doc = example_doc(10_000 + i, answer="", reward=rejected_reward, reasons=["empty_answer"])
        stats.add("rejected", json.dumps(doc).encode(), at=T0)
    return stats.close()


class TestCuratedOnly:
    def test_rejections_do_not_drift(self) -> None:
        """A rejection spike with low scores leaves the curated drift at 0 (it has its own rule);
        counting every example sees it as a large shift."""
        curated = DriftDetector("pinned", reference_windows=1, min_samples=50)
        every = DriftDetector("pinned", reference_windows=1, min_samples=50, outcome=None)
        for d in (curated, every):
            d.update(mixed_window(100, 0))
        spike = mixed_window(100, 80)
        assert curated.update(spike)["score:reward"] == pytest.approx(0.0)
        assert curated.update(spike)["length"] == pytest.approx(0.0)
        assert every.update(spike)["score:reward"] > 1

    def test_min_samples_counts_curated_examples(self) -> None:
        """A window of many rejections and few curated examples gives no value and no reference."""
        d = DriftDetector("pinned", reference_windows=1, min_samples=50)
        assert d.update(mixed_window(30, 100)) == {}
        assert d.reference() == {}
        d.update(mixed_window(60, 0))
        assert d.update(mixed_window(60, 0))["score:reward"] == pytest.approx(0.0)

    def test_histograms_from_rows(self) -> None:
        """Rows give the same curated histograms as the summary's exact counts would."""
        summary = window(good=40, pii=10)
        from_rows, n = histograms(summary)
        exact, total = histograms(summary, None)
        assert n == total == 50
        assert from_rows["score:reward"] == exact["score:reward"]
        assert from_rows["length"] == exact["length"]
        assert from_rows["domain_mix"] == exact["domain_mix"] == {"billing": 50}
