"""The filters curation applies, and the knobs that configure them (``FilterConfig``).

The curator service builds a ``FilterConfig`` from its settings (``winnow.agents.config``); the
stage never reads settings itself, so a test or benchmark can configure filters directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from winnow.stages.filters.base import ExampleFilter, load_filters
from winnow.stages.filters.basic import (
    AnswerLengthFilter,
    EmptyAnswerFilter,
    PromptLengthFilter,
    TemplatePlaceholderFilter,
    UnresolvedTicketFilter,
)
from winnow.stages.filters.conversation import ConversationFilter
from winnow.stages.filters.language import LanguageFilter, LanguageIdentifier
from winnow.stages.filters.quality import (
    BoilerplateFilter,
    EscalationOnlyFilter,
    LowCsatFilter,
    NonTextFilter,
    RepetitionFilter,
    ScoreLimits,
    ScoreThresholdFilter,
)


@dataclass(frozen=True, kw_only=True)
class FilterConfig:
    """Every threshold of the default filters; ``None`` turns an optional filter off.

    No defaults here: ``winnow.settings.Settings`` holds them, in one place.
    """

    min_answer_chars: int
    max_answer_chars: int
    max_prompt_chars: int
    boilerplate_min_substance_chars: int
    max_duplicate_line_fraction: float | None
    max_top_ngram_fraction: float | None
    max_duplicate_ngram_fraction: float | None
    score_thresholds: Mapping[str, ScoreLimits]
    min_alpha_ratio: float | None
    min_csat: int | None
    allowed_languages: tuple[str, ...]
    """Empty: every language is kept and no detector is loaded."""
    language_candidates: tuple[str, ...]
    language_min_chars: int
    max_conversation_tokens: int | None = None
    """Support conversations with more tokens are rejected; None turns the check off."""
    extra_filters: tuple[str, ...] = ()
    """Import paths ``module:attribute`` of further filters (see ``load_filters``)."""


def default_filters(config: FilterConfig) -> list[ExampleFilter]:
    """The filters curation applies, configured by ``config``, in the order they run."""
    c = config
    filters: list[ExampleFilter] = [
        EmptyAnswerFilter(),
        AnswerLengthFilter(c.min_answer_chars, c.max_answer_chars),
        PromptLengthFilter(c.max_prompt_chars),
        TemplatePlaceholderFilter(),
        UnresolvedTicketFilter(),
        BoilerplateFilter(c.boilerplate_min_substance_chars),
        EscalationOnlyFilter(c.boilerplate_min_substance_chars),
        RepetitionFilter(
            c.max_duplicate_line_fraction, c.max_top_ngram_fraction, c.max_duplicate_ngram_fraction
        ),
        ScoreThresholdFilter(c.score_thresholds),
        ConversationFilter(c.boilerplate_min_substance_chars, c.max_conversation_tokens),
    ]
    if c.min_alpha_ratio is not None:
        filters.append(NonTextFilter(c.min_alpha_ratio))
    if c.min_csat is not None:
        filters.append(LowCsatFilter(c.min_csat))
    if c.allowed_languages:
        candidates = [*c.language_candidates, *c.allowed_languages]
        identifier = LanguageIdentifier(candidates, min_letters=c.language_min_chars)
        filters.append(LanguageFilter(c.allowed_languages, identifier))
    filters += load_filters(c.extra_filters)
    return filters
