"""PSI values on known distributions and the pinned / rolling reference."""

from __future__ import annotations

import math

import pytest
from tests.monitor.helpers import window

from winnow.monitor.drift import EPSILON, DriftDetector, mix_psi, psi


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
