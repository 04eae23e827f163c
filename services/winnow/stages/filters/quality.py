"""Quality filters on the answer's text, the ticket's CSAT and the models' scores.

Each is an ``ExampleFilter``: it reads one example and answers keep (None) or a ``DropReason``.
Thresholds are constructor arguments; ``None`` turns a check off (as in datatrove's filters).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from winnow.example import Example, ExampleKind
from winnow.reasons import DropReason
from winnow.stages.filters.base import ExampleFilter

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)

# An AI disclaimer anywhere in a support answer is model leakage: always dropped.
AI_DISCLAIMERS = re.compile(
    r"\bas an ai\b|\bas a(n)? (ai |large )?language model\b|\bi am an ai\b|\bi'm an ai\b"
    r"|\bi (do not|don't) have (access to )?(personal|real-time)\b",
    re.IGNORECASE,
)
# Refusals and hand-offs to "support": boilerplate only when nothing else is said.
REFUSALS = re.compile(
    r"\bi (cannot|can't|can not|am unable to|'m unable to|am not able to) (help|assist)\b"
    r"|\b(i'm|i am) (sorry|afraid),? (but )?i (cannot|can't|am unable)\b"
    r"|\b(please )?(contact|reach out to|call|email) (our |the )?(customer )?(support|service)"
    r"( team)?\b|\bunable to (help|assist) (you )?with (that|this)\b",
    re.IGNORECASE,
)
ESCALATIONS = re.compile(
    r"\b(let me|i'?ll|i will|i am going to|i'm going to|allow me to) "
    r"(transfer|escalate|forward|pass|connect|hand)\b"
    r"|\b(i'?ve|i have) (escalated|forwarded|transferred|passed)\b"
    r"|\b(transferring|escalating|connecting) you\b"
    r"|\b(a|an|our) (specialist|supervisor|agent|manager|colleague|team member)s? will "
    r"(contact|call|reach|get back|be with)\b",
    re.IGNORECASE,
)
# Sentences that say nothing either way ("Thanks for contacting us.").
PLEASANTRIES = re.compile(
    r"^\W*(thanks?( you)?|thank you for (contacting|reaching|your)|i understand|i'm sorry|"
    r"i am sorry|sorry|have a (great|nice|good)|you're welcome|no problem|hello|hi|dear|"
    r"please (hold|wait|bear with)|one moment|kind regards|best regards|regards)\b",
    re.IGNORECASE,
)


def _substance(sentences: Sequence[str], *patterns: re.Pattern[str]) -> int:
    """Characters in the sentences that match none of ``patterns`` nor a pleasantry."""
    return sum(
        len(s)
        for s in sentences
        if not PLEASANTRIES.search(s) and not any(p.search(s) for p in patterns)
    )


def sentences_of(text: str) -> list[str]:
    """Non-empty sentences (split at sentence ends and line breaks)."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


@dataclass(frozen=True)
class BoilerplateFilter(ExampleFilter):
    """Drops AI disclaimers anywhere, and refusals or "contact support" with nothing else said."""

    min_substance_chars: int = 40

    def check(self, example: Example) -> DropReason | None:
        text = example.answer
        if AI_DISCLAIMERS.search(text):
            return DropReason.BOILERPLATE
        if not REFUSALS.search(text):
            return None
        substance = _substance(sentences_of(text), REFUSALS, ESCALATIONS)
        return DropReason.BOILERPLATE if substance < self.min_substance_chars else None


@dataclass(frozen=True)
class EscalationOnlyFilter(ExampleFilter):
    """Drops answers that only hand the customer over ("let me transfer you") and solve nothing."""

    min_substance_chars: int = 40

    def check(self, example: Example) -> DropReason | None:
        text = example.answer
        if not ESCALATIONS.search(text):
            return None
        substance = _substance(sentences_of(text), ESCALATIONS, REFUSALS)
        return DropReason.ESCALATION_ONLY if substance < self.min_substance_chars else None


def _ngram_counts(words: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def top_ngram_fraction(words: Sequence[str], n: int) -> float:
    """Share of word characters covered by the most frequent n-gram (Gopher)."""
    total = sum(len(w) for w in words)
    counts = _ngram_counts(words, n)
    if not total or not counts:
        return 0.0
    gram, freq = counts.most_common(1)[0]
    if freq < 2:
        return 0.0
    return sum(len(w) for w in gram) * freq / total


def duplicate_ngram_fraction(words: Sequence[str], n: int) -> float:
    """Share of word characters inside n-grams that occur more than once (Gopher)."""
    total = sum(len(w) for w in words)
    if not total or len(words) < n:
        return 0.0
    counts = _ngram_counts(words, n)
    covered = [False] * len(words)
    for i in range(len(words) - n + 1):
        if counts[tuple(words[i : i + n])] > 1:
            for j in range(i, i + n):
                covered[j] = True
    return sum(len(w) for w, c in zip(words, covered, strict=True) if c) / total


def duplicate_line_fraction(text: str) -> float:
    """Share of non-empty lines that repeat an earlier line."""
    lines = [ln.strip().casefold() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return 0.0
    return 1 - len(set(lines)) / len(lines)


@dataclass(frozen=True)
class RepetitionFilter(ExampleFilter):
    """Drops answers with repeated lines or n-grams above Gopher-style thresholds."""

    max_duplicate_line_fraction: float | None = 0.3
    max_top_ngram_fraction: float | None = 0.25
    max_duplicate_ngram_fraction: float | None = 0.25
    min_words: int = 10

    def check(self, example: Example) -> DropReason | None:
        text = example.answer
        limit = self.max_duplicate_line_fraction
        if limit is not None and duplicate_line_fraction(text) > limit:
            return DropReason.REPETITIVE
        words = [w.casefold() for w in _WORD.findall(text)]
        if len(words) < self.min_words:
            return None
        if (top := self.max_top_ngram_fraction) is not None:
            for n, step in ((2, 0.0), (3, 0.02), (4, 0.04)):
                if top_ngram_fraction(words, n) > top - step:
                    return DropReason.REPETITIVE
        if (dup := self.max_duplicate_ngram_fraction) is not None:
            for n in range(5, 11):
                if duplicate_ngram_fraction(words, n) > dup - 0.01 * (n - 5):
                    return DropReason.REPETITIVE
        return None


@dataclass(frozen=True)
class NonTextFilter(ExampleFilter):
    """Drops answers whose letters are too small a share of their non-space characters."""

    min_alpha_ratio: float = 0.5
    min_chars: int = 20

    def check(self, example: Example) -> DropReason | None:
        chars = [c for c in example.answer if not c.isspace()]
        if len(chars) < self.min_chars:
            return None  # too short to judge; the length filter decides
        letters = sum(c.isalpha() for c in chars)
        return DropReason.NON_TEXT if letters / len(chars) < self.min_alpha_ratio else None


@dataclass(frozen=True)
class LowCsatFilter(ExampleFilter):
    """Drops ticket examples whose customer satisfaction is below ``min_csat``."""

    min_csat: int = 3

    def check(self, example: Example) -> DropReason | None:
        if example.csat is None:
            return None
        return DropReason.LOW_CSAT if example.csat < self.min_csat else None


class ScoreLimits(Protocol):
    """Lowest model scores an example may have; ``None`` sets no bound (``WINNOW_SCORE_THRESHOLDS``
    entries are these)."""

    @property
    def reward(self) -> float | None: ...

    @property
    def relevance(self) -> float | None: ...

    @property
    def domain_confidence(self) -> float | None: ...

    @property
    def reward_quantile(self) -> float | None: ...


_SCORE_REASONS: dict[str, DropReason] = {
    "reward": DropReason.LOW_REWARD,
    "relevance": DropReason.LOW_RELEVANCE,
    "domain_confidence": DropReason.LOW_DOMAIN_CONFIDENCE,
    "reward_quantile": DropReason.LOW_REWARD,
}


def resolve_limits(
    thresholds: Mapping[str, ScoreLimits], *, domain: str | None, provenance: str
) -> dict[str, float]:
    """The bounds that apply: ``default``, ``domain:<d>``, ``synthetic``, ``provenance:<p>``.

    Later keys override earlier ones score by score; a score no key bounds is not in the result.
    """
    keys = ["default"]
    if domain:
        keys.append(f"domain:{domain}")
    if provenance.startswith("synthetic:"):
        keys.append("synthetic")
    keys.append(f"provenance:{provenance}")
    out: dict[str, float] = {}
    for key in keys:
        limits = thresholds.get(key)
        if limits is not None:
            bounds = {name: getattr(limits, name) for name in _SCORE_REASONS}
            out.update({k: v for k, v in bounds.items() if v is not None})
    return out


@dataclass(frozen=True)
class ScoreThresholdFilter(ExampleFilter):
    """Drops examples whose model scores fall below the bounds for their domain and provenance.

    A score the models did not set (models not built, scorer off) is skipped, never a rejection.
    """

    thresholds: Mapping[str, ScoreLimits] = field(default_factory=dict)

    def check(self, example: Example) -> DropReason | None:
        if example.kind is ExampleKind.NEGATIVE:
            return None  # a negative is bad on purpose: its low scores are the point
        limits = resolve_limits(
            self.thresholds, domain=example.domain, provenance=example.provenance
        )
        for name, reason in _SCORE_REASONS.items():
            value = example.scores.get(name)
            bound = limits.get(name)
            if value is not None and bound is not None and value < bound:
                return reason
        return None
