"""Stage configuration built from ``Settings``: the services' side of "stages take knobs as
arguments". Kept apart from the agents so that tests and benchmarks can build a stage's config
without importing faust."""

from __future__ import annotations

from winnow.settings import ScoreLimits, Settings
from winnow.stages.filters.defaults import FilterConfig
from winnow.stages.normalise import NormaliseOptions, TicketShape
from winnow.stages.validate import ValidateConfig


def with_min_quantile(
    thresholds: dict[str, ScoreLimits], min_quantile: float | None
) -> dict[str, ScoreLimits]:
    """``thresholds`` with ``min_quantile`` as the ``default`` key's reward quantile bound.

    A ``reward_quantile`` the ``default`` key already sets wins (the explicit JSON is the finer
    knob); later keys (``domain:<d>``, ``synthetic``...) override it as usual.
    """
    out = dict(thresholds)
    if min_quantile is None:
        return out
    base = out.get("default") or ScoreLimits()
    if base.reward_quantile is None:
        out["default"] = base.model_copy(update={"reward_quantile": min_quantile})
    return out


def filter_config(settings: Settings) -> FilterConfig:
    """The curation filters' thresholds, from ``WINNOW_*`` settings."""
    s = settings
    return FilterConfig(
        min_answer_chars=s.min_answer_chars,
        max_answer_chars=s.max_answer_chars,
        max_prompt_chars=s.max_prompt_chars,
        boilerplate_min_substance_chars=s.boilerplate_min_substance_chars,
        max_duplicate_line_fraction=s.max_duplicate_line_fraction,
        max_top_ngram_fraction=s.max_top_ngram_fraction,
        max_duplicate_ngram_fraction=s.max_duplicate_ngram_fraction,
        score_thresholds=with_min_quantile(s.score_thresholds, s.reward_min_quantile),
        min_alpha_ratio=s.min_alpha_ratio,
        min_csat=s.min_csat,
        allowed_languages=tuple(s.allowed_languages),
        language_candidates=tuple(s.language_candidates),
        language_min_chars=s.language_min_chars,
        extra_filters=tuple(s.curate_extra_filters),
        max_conversation_tokens=s.max_conversation_tokens,
    )


def normalise_options(settings: Settings) -> NormaliseOptions:
    """Ticket example shape and producer category map, from ``WINNOW_*`` settings."""
    return NormaliseOptions(
        TicketShape(settings.ticket_example_shape),
        {k.strip().casefold(): v for k, v in settings.category_map.items()},
    )


def validate_config(settings: Settings) -> ValidateConfig:
    """The validator stage's settings: size limit, ticket shape and every ``WINNOW_PII_*``
    knob (subject key, order numbers, placeholders), shared by the stream and ``winnow score``."""
    return ValidateConfig(
        max_bytes=settings.max_event_bytes,
        options=normalise_options(settings),
        subject_key=settings.subject_key(),
        orders=settings.pii_order_numbers,
        surrogates=settings.lone_surrogates,
        placeholders=settings.pii_placeholders,
    )
