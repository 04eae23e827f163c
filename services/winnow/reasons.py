"""Every reason Winnow drops something, in one place.

Reasons are enum members, never free text: they are counted as metric labels, stored on the
rejected or dead-lettered record, and documented here once. ``docs/architecture.md`` lists them.
"""

from __future__ import annotations

from enum import StrEnum


class DeadLetterReason(StrEnum):
    """Why a source event could not become an example at all (it goes to the DLQ topic)."""

    OVERSIZE = "oversize"
    """The raw event is larger than ``WINNOW_MAX_EVENT_BYTES``."""
    INVALID_UTF8 = "invalid_utf8"
    """The bytes are not UTF-8 text."""
    INVALID_JSON = "invalid_json"
    """The text is not a JSON document."""
    UNKNOWN_TYPE = "unknown_type"
    """The envelope's ``type`` names no event model Winnow knows."""
    SCHEMA_VIOLATION = "schema_violation"
    """Fields are missing or have the wrong type or value for the event's model."""
    NO_EXAMPLE = "no_example"
    """The event is valid but holds nothing that can be turned into an example."""
    PROCESSING_ERROR = "processing_error"
    """A stage raised on this record (a poison record); the error is kept for debugging."""


class DropReason(StrEnum):
    """Why a candidate example was rejected by curation (it goes to the rejected topic)."""

    EMPTY_ANSWER = "empty_answer"
    """The answer (or the chosen response) is blank."""
    TOO_SHORT = "too_short"
    """The answer is shorter than ``WINNOW_MIN_ANSWER_CHARS``."""
    TOO_LONG = "too_long"
    """The answer is longer than ``WINNOW_MAX_ANSWER_CHARS``."""
    PROMPT_TOO_LONG = "prompt_too_long"
    """The turns before the answer are longer than ``WINNOW_MAX_PROMPT_CHARS``."""
    TEMPLATE_PLACEHOLDER = "template_placeholder"
    """The answer holds an unresolved template placeholder such as ``{{Order Number}}``."""
    UNRESOLVED_TICKET = "unresolved_ticket"
    """The support ticket was not resolved, so its last answer is not known to be good."""
    DUPLICATE = "duplicate"
    """An identical example (same content hash) from another event is already in the store."""
    NORMALISED_DUPLICATE = "normalised_duplicate"
    """Same text as a stored example once casefolded, with punctuation, digits and spacing
    normalised (a copy that differs only in case, punctuation, numbers or PII placeholders)."""
    NEAR_DUPLICATE = "near_duplicate"
    """A stored example of the same tenant is nearly the same text (MinHash LSH on shingles)."""
    BOILERPLATE = "boilerplate"
    """The answer is an AI disclaimer, a refusal or a "contact support" line with no substance."""
    ESCALATION_ONLY = "escalation_only"
    """The answer only hands the customer over ("let me transfer you") and solves nothing; for a
    support conversation, every substantive agent turn does."""
    NO_SUBSTANTIVE_TURN = "no_substantive_turn"
    """No agent turn of the support conversation carries substance: greetings, identity checks
    and closing small talk only."""
    CONVERSATION_TOO_LONG = "conversation_too_long"
    """The whole support conversation has more tokens than ``WINNOW_MAX_CONVERSATION_TOKENS``."""
    REPETITIVE = "repetitive"
    """Too many repeated lines or n-grams (Gopher-style repetition thresholds)."""
    NON_TEXT = "non_text"
    """Too few letters among the answer's characters (symbols, digits, markup)."""
    LANGUAGE_NOT_ALLOWED = "language_not_allowed"
    """The answer's language is not in ``WINNOW_ALLOWED_LANGUAGES``."""
    LOW_CSAT = "low_csat"
    """The ticket's customer satisfaction is below ``WINNOW_MIN_CSAT``."""
    LOW_REWARD = "low_reward"
    """The reward model's score is below the threshold for the example's domain and provenance."""
    LOW_RELEVANCE = "low_relevance"
    """The answer's relevance to the prompt is below the threshold for its domain and provenance."""
    LOW_DOMAIN_CONFIDENCE = "low_domain_confidence"
    """The domain router's confidence is below the threshold for its domain and provenance."""
