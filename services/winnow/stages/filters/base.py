"""Curation filters: each judges one thing and answers keep (None) or a ``DropReason``.

A filter reads only the example (its text, scores and flags), so it can be tested on one record.
``decide`` runs every filter and keeps every reason, so a rejection says all that was wrong with it.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from winnow.errors import ConfigurationError
from winnow.example import Decision, Example
from winnow.reasons import DropReason
from winnow.settings import Settings
from winnow.stages.heuristics import count_placeholders
from winnow.stages.normalise import UNRESOLVED_FLAG


class ExampleFilter(ABC):
    """One curation rule."""

    @abstractmethod
    def check(self, example: Example) -> DropReason | None:
        """Return why ``example`` must be dropped, or None to keep it."""


class EmptyAnswerFilter(ExampleFilter):
    """Drops examples whose answer is blank."""

    def check(self, example: Example) -> DropReason | None:
        return DropReason.EMPTY_ANSWER if not example.answer.strip() else None


@dataclass(frozen=True)
class AnswerLengthFilter(ExampleFilter):
    """Drops non-empty answers outside [min_chars, max_chars]; ``None`` turns a bound off."""

    min_chars: int | None = 20
    max_chars: int | None = 8000

    def check(self, example: Example) -> DropReason | None:
        n = len(example.answer.strip())
        if n == 0:
            return None  # EmptyAnswerFilter's call
        if self.min_chars is not None and n < self.min_chars:
            return DropReason.TOO_SHORT
        if self.max_chars is not None and n > self.max_chars:
            return DropReason.TOO_LONG
        return None


@dataclass(frozen=True)
class PromptLengthFilter(ExampleFilter):
    """Drops examples whose prompt turns exceed ``max_chars`` in total."""

    max_chars: int = 16000

    def check(self, example: Example) -> DropReason | None:
        total = sum(len(m.content) for m in example.prompt_messages)
        return DropReason.PROMPT_TOO_LONG if total > self.max_chars else None


class TemplatePlaceholderFilter(ExampleFilter):
    """Drops answers that still hold a template placeholder such as ``{{Order Number}}``."""

    def check(self, example: Example) -> DropReason | None:
        found = example.scores.get("placeholders")
        if found is None:
            found = float(count_placeholders(example.answer))
        return DropReason.TEMPLATE_PLACEHOLDER if found > 0 else None


class UnresolvedTicketFilter(ExampleFilter):
    """Drops examples from tickets that did not end resolved."""

    def check(self, example: Example) -> DropReason | None:
        return DropReason.UNRESOLVED_TICKET if UNRESOLVED_FLAG in example.flags else None


def default_filters(settings: Settings) -> list[ExampleFilter]:
    """The filters curation applies, configured from settings."""
    # Imported here: those modules subclass ``ExampleFilter`` from this one.
    from winnow.stages.filters.language import LanguageFilter, LanguageIdentifier
    from winnow.stages.filters.quality import (
        BoilerplateFilter,
        EscalationOnlyFilter,
        LowCsatFilter,
        NonTextFilter,
        RepetitionFilter,
        ScoreThresholdFilter,
    )

    s = settings
    filters: list[ExampleFilter] = [
        EmptyAnswerFilter(),
        AnswerLengthFilter(s.min_answer_chars, s.max_answer_chars),
        PromptLengthFilter(s.max_prompt_chars),
        TemplatePlaceholderFilter(),
        UnresolvedTicketFilter(),
        BoilerplateFilter(s.boilerplate_min_substance_chars),
        EscalationOnlyFilter(s.boilerplate_min_substance_chars),
        RepetitionFilter(
            s.max_duplicate_line_fraction, s.max_top_ngram_fraction, s.max_duplicate_ngram_fraction
        ),
        ScoreThresholdFilter(s.score_thresholds),
    ]
    if s.min_alpha_ratio is not None:
        filters.append(NonTextFilter(s.min_alpha_ratio))
    if s.min_csat is not None:
        filters.append(LowCsatFilter(s.min_csat))
    if s.allowed_languages:
        candidates = [*s.language_candidates, *s.allowed_languages]
        identifier = LanguageIdentifier(candidates, min_letters=s.language_min_chars)
        filters.append(LanguageFilter(s.allowed_languages, identifier))
    filters += load_filters(s.curate_extra_filters)
    return filters


def load_filters(paths: Sequence[str]) -> list[ExampleFilter]:
    """Filters named by import path ``module:attribute`` (``WINNOW_CURATE_EXTRA_FILTERS``).

    The attribute is an ``ExampleFilter`` instance, a subclass (built without arguments) or a
    zero-argument factory returning one. Raises ``ConfigurationError`` at start, not mid-stream.
    """
    filters: list[ExampleFilter] = []
    for path in paths:
        module_name, _, attribute = path.partition(":")
        if not module_name or not attribute:
            raise ConfigurationError(f"filter {path!r}: expected 'module:attribute'")
        try:
            found = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError(f"filter {path!r}: {exc}") from exc
        try:
            made = found() if callable(found) and not isinstance(found, ExampleFilter) else found
        except Exception as exc:  # a factory's own failure, reported as the setting's
            raise ConfigurationError(f"filter {path!r} could not be built: {exc}") from exc
        if not isinstance(made, ExampleFilter):
            raise ConfigurationError(
                f"filter {path!r} is a {type(made).__name__}, not an ExampleFilter"
            )
        filters.append(made)
    return filters


def decide(example: Example, filters: Sequence[ExampleFilter]) -> Example:
    """Return a copy of ``example`` with an accepted or rejected ``Decision`` and all reasons."""
    reasons = [r for f in filters if (r := f.check(example)) is not None]
    status = "rejected" if reasons else "accepted"
    return example.model_copy(update={"decision": Decision(status=status, reasons=reasons)})
