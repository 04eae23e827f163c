"""Tests for ``winnow.pii.corpus``: the generator and the scoring rules behind reported numbers."""

from __future__ import annotations

from winnow.pii.corpus import CorpusItem, Planted, evaluate, generate_corpus
from winnow.pii.redact import PiiType
from winnow.pii.types import PATTERN_TYPES


def test_same_seed_same_corpus() -> None:
    """A seed fixes the corpus; another seed gives another one."""
    assert generate_corpus(50, seed=3) == generate_corpus(50, seed=3)
    assert generate_corpus(50, seed=3) != generate_corpus(50, seed=4)


def test_planted_spans_point_at_values() -> None:
    """Every planted span is non-empty, inside its text and free of surrounding whitespace."""
    items = generate_corpus(300, seed=1)
    assert {p.type for item in items for p in item.planted} == set(PATTERN_TYPES)
    for item in items:
        for p in item.planted:
            value = item.text[p.start : p.end]
            assert value
            assert value == value.strip()


def test_scoring_counts_misses_false_positives_and_overruns() -> None:
    """A survivor is a miss, a hit on no planted value a false positive, a spill an overrun."""
    text = "mail jane@example.com or 4111 1111 1111 1111 now; v1.2.3 3fA9kL2mQ8zX7wR1tY6uP0oI"
    email, card, version = text.index("jane"), text.index("4111"), text.index("v1.2.3")
    items = [
        CorpusItem(
            text,
            planted=(
                Planted(email, email + 16, PiiType.EMAIL),  # found exactly
                Planted(card, card + 9, PiiType.CARD),  # only part of the card: the hit overruns it
                Planted(version, version + 6, PiiType.IP),  # "v1.2.3" is not found: a miss
            ),
            negatives=(),
        )
    ]
    report = evaluate(items)
    assert report.per_type[PiiType.EMAIL].recalled == 1
    assert report.per_type[PiiType.CARD].overruns == 1
    assert report.per_type[PiiType.IP].recalled == 0
    assert report.per_type[PiiType.SECRET].false_positives == 1  # the token was not planted
    assert report.overall.planted == 3
    assert report.overall.recall == 2 / 3
