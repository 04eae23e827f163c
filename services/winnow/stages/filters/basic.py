"""Basic filters on the example's shape: blank or out-of-bounds answers, long prompts, leftover
template placeholders, unresolved tickets."""

from __future__ import annotations

from dataclasses import dataclass

from winnow.example import Example
from winnow.reasons import DropReason
from winnow.stages.filters.base import ExampleFilter
from winnow.stages.heuristics import count_placeholders
from winnow.stages.normalise import UNRESOLVED_FLAG


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
