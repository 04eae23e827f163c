"""The filter protocol: each filter judges one thing and answers keep (None) or a ``DropReason``.

A filter reads only the example (its text, scores and flags), so it can be tested on one record.
``decide`` runs every filter and keeps every reason, so a rejection says all that was wrong with it.
The filters themselves live beside this module (``basic``, ``quality``, ``language``); the set
curation applies is ``defaults.default_filters``.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence

from winnow.errors import ConfigurationError
from winnow.example import Decision, Example
from winnow.reasons import DropReason


class ExampleFilter(ABC):
    """One curation rule."""

    @abstractmethod
    def check(self, example: Example) -> DropReason | None:
        """Return why ``example`` must be dropped, or None to keep it."""


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
