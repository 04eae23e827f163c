"""Quality filters: boilerplate, escalation, repetition, non-text, language, CSAT, model scores."""

from __future__ import annotations

import csv

from winnow.agents.config import filter_config
from winnow.events import SOURCE_EVENT_ADAPTER
from winnow.example import Example
from winnow.reasons import DropReason
from winnow.settings import ScoreLimits, Settings
from winnow.stages.decode import Coordinates
from winnow.stages.filters.base import ExampleFilter, decide
from winnow.stages.filters.defaults import default_filters
from winnow.stages.filters.language import LanguageFilter, LanguageIdentifier
from winnow.stages.filters.quality import (
    BoilerplateFilter,
    EscalationOnlyFilter,
    LowCsatFilter,
    NonTextFilter,
    RepetitionFilter,
    ScoreThresholdFilter,
    resolve_limits,
)
from winnow.stages.normalise import event_to_examples
from winnow.testing.fixtures import SAMPLE_DATA_DIR, synthetic_event, ticket_event

GOOD = (
    "Your refund was issued today and will reach your card within five business days. "
    "You can follow it under Orders, then Refunds, in your account."
)
BITEXT = (
    SAMPLE_DATA_DIR
    / "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
)


def _ex(answer: str, **kw: object) -> Example:
    [ex] = event_to_examples(
        SOURCE_EVENT_ADAPTER.validate_python(ticket_event("Where is my refund?", answer)),
        Coordinates(),
    )
    return ex.model_copy(update=kw) if kw else ex


def _syn(answer: str, **kw: object) -> Example:
    doc = synthetic_event("Where is my refund?", answer)
    [ex] = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), Coordinates())
    return ex.model_copy(update=kw) if kw else ex


def assert_drop(f: ExampleFilter, example: Example, reason: DropReason | None) -> None:
    """The filter gives exactly ``reason`` (None: keep)."""
    assert f.check(example) == reason, example.answer


class TestTextFilters:
    def test_boilerplate(self) -> None:
        """AI disclaimers and bare refusals drop; a refusal followed by real help is kept."""
        f = BoilerplateFilter()
        assert_drop(f, _ex(GOOD), None)
        assert_drop(
            f, _ex("As an AI language model, I cannot access your order."), DropReason.BOILERPLATE
        )
        assert_drop(
            f,
            _ex("I'm sorry, I cannot help with that. Please contact support."),
            DropReason.BOILERPLATE,
        )
        helpful = "Please contact support if this fails. " + GOOD
        assert_drop(f, _ex(helpful), None)

    def test_escalation_only(self) -> None:
        """A bare hand-over drops; a hand-over after a real answer is kept."""
        f = EscalationOnlyFilter()
        assert_drop(
            f,
            _ex("Thanks for waiting. Let me transfer you to our billing team."),
            DropReason.ESCALATION_ONLY,
        )
        assert_drop(
            f,
            _ex("I'll escalate this to a supervisor who will call you back."),
            DropReason.ESCALATION_ONLY,
        )
        assert_drop(f, _ex(GOOD + " If it does not arrive, I'll escalate this to billing."), None)

    def test_repetition(self) -> None:
        """Looping text drops as repetitive; a normal answer is kept."""
        f = RepetitionFilter()
        assert_drop(f, _ex(GOOD), None)
        assert_drop(f, _ex("I can help you with that. " * 8), DropReason.REPETITIVE)
        assert_drop(
            f, _ex("Please retry.\nPlease retry.\nPlease retry.\nOk then."), DropReason.REPETITIVE
        )

    def test_non_text(self) -> None:
        """Symbol and digit soup drops; prose is kept."""
        f = NonTextFilter(0.5)
        assert_drop(f, _ex(GOOD), None)
        assert_drop(
            f, _ex("<div>{{}}</div> ### 1234-5678-90 $$$ ++ <br/><br/> 42"), DropReason.NON_TEXT
        )


class TestLanguage:
    def test_language_filter(self) -> None:
        """English is kept, Spanish dropped, a too-short answer kept, a set language is trusted."""
        f = LanguageFilter(["en"], LanguageIdentifier(["en", "es", "fr", "de"]))
        assert_drop(f, _ex(GOOD), None)
        spanish = "Su reembolso se emitió hoy y llegará a su tarjeta en cinco días hábiles."
        assert_drop(f, _ex(spanish), DropReason.LANGUAGE_NOT_ALLOWED)
        assert_drop(f, _ex("Thanks, ok!"), None)
        assert_drop(f, _ex(GOOD, language="fr"), DropReason.LANGUAGE_NOT_ALLOWED)

    def test_annotate_sets_unknown_language(self) -> None:
        """annotate fills an unset language and leaves a set one alone."""
        ident = LanguageIdentifier(["en", "de"])
        assert ident.annotate(_ex(GOOD)).language == "en"
        assert ident.annotate(_ex(GOOD, language="de")).language == "de"


class TestScores:
    def test_low_csat(self) -> None:
        """CSAT below the bound drops; no CSAT is kept."""
        f = LowCsatFilter(3)
        assert_drop(f, _ex(GOOD, csat=2), DropReason.LOW_CSAT)
        assert_drop(f, _ex(GOOD, csat=3), None)
        assert_drop(f, _ex(GOOD), None)

    def test_thresholds_by_domain_and_provenance(self) -> None:
        """Synthetic examples are held to the stricter bound; a domain override applies."""
        s = Settings(
            score_thresholds={
                "default": {"reward": 0.3},
                "synthetic": {"reward": 0.5},
                "domain:refund": {"relevance": 0.6},
            }
        )
        f = ScoreThresholdFilter(s.score_thresholds)
        scores = {"reward": 0.4, "relevance": 0.5, "domain_confidence": 0.9}
        assert_drop(f, _ex(GOOD, scores=scores), None)
        assert_drop(f, _syn(GOOD, scores=scores), DropReason.LOW_REWARD)
        assert_drop(f, _ex(GOOD, scores=scores, domain="refund"), DropReason.LOW_RELEVANCE)
        limits = resolve_limits(s.score_thresholds, domain="refund", provenance="synthetic:x")
        assert limits == {"reward": 0.5, "relevance": 0.6}

    def test_missing_scores_are_skipped(self) -> None:
        """Without model scores nothing is rejected, whatever the bounds."""
        f = ScoreThresholdFilter({"default": ScoreLimits(reward=0.9, relevance=0.9)})
        assert_drop(f, _syn(GOOD), None)
        assert_drop(f, _ex(GOOD, scores={"reward": 0.1}), DropReason.LOW_REWARD)


class TestDefaults:
    def test_default_filters_good_and_bad(self) -> None:
        """The default list keeps a good answer and gives a bare refusal its reason."""
        filters = default_filters(filter_config(Settings()))
        out = decide(_ex(GOOD), filters)
        assert out.decision is not None and out.decision.status == "accepted"
        out = decide(_ex("As an AI language model I cannot help with that request."), filters)
        assert out.decision is not None and out.decision.reasons == [DropReason.BOILERPLATE]

    def test_bitext_answers_not_boilerplate(self) -> None:
        """Real Bitext answers are almost never flagged by the new text filters."""
        with BITEXT.open(newline="") as fh:
            rows = list(csv.DictReader(fh))[:600]
        filters = [BoilerplateFilter(), EscalationOnlyFilter(), RepetitionFilter(), NonTextFilter()]
        flagged = sum(any(f.check(_ex(r["response"])) for f in filters) for r in rows)
        assert flagged <= len(rows) // 100
