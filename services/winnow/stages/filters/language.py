"""Answer language: detection with lingua (restricted languages, low-accuracy mode) and a filter.

lingua-language-detector was measured on Bitext answers (~1,000 characters, 2 vCPU): 18
languages in low-accuracy mode detect ~1,800 texts/s with models loaded lazily (~170 MB RSS);
all 75 languages ~290/s; high-accuracy mode loads ~380 MB. Restricted + low accuracy is the
setting used here. A language outside ``candidates`` is reported as its nearest candidate, so
the candidate list must include the languages you expect to reject, not only the allowed ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from winnow.example import Example
from winnow.reasons import DropReason
from winnow.stages.filters.base import ExampleFilter

if TYPE_CHECKING:
    from lingua import LanguageDetector

_WORDS = re.compile(r"[^\W\d_]{2,}")
_SAMPLE_CHARS = 1000  # detection on the first 1,000 characters: enough, and bounds the cost


# Low-accuracy mode (fast) misreads short texts: "Use 'Forgot password' on the sign-in page."
# came out Italian at 0.70. Below this length the slower high-accuracy mode decides.
_FAST_MIN_CHARS = 120


@lru_cache(maxsize=16)
def _detector(codes: tuple[str, ...], fast: bool = True) -> LanguageDetector:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    if len(languages) < 2:
        raise ValueError("language detection needs at least two candidate languages")
    builder = LanguageDetectorBuilder.from_languages(*languages)
    return (builder.with_low_accuracy_mode() if fast else builder).build()


class LanguageIdentifier:
    """Detects an answer's language (ISO 639-1) among a fixed set of candidates."""

    def __init__(self, candidates: Iterable[str], *, min_letters: int = 20) -> None:
        self.codes = tuple(sorted({c.lower() for c in candidates}))
        self.min_letters = min_letters

    def detect(self, text: str) -> str | None:
        """The language code of ``text``, or None when it is too short or unclear."""
        sample = text[:_SAMPLE_CHARS]
        if sum(c.isalpha() for c in sample) < self.min_letters or len(_WORDS.findall(sample)) < 3:
            return None  # too little text to tell (a word repeated, a code, a name)
        found = _detector(self.codes, len(sample) >= _FAST_MIN_CHARS).detect_language_of(sample)
        return None if found is None else found.iso_code_639_1.name.lower()

    def annotate(self, example: Example) -> Example:
        """Return ``example`` with ``language`` set from its answer when it was unknown."""
        if example.language is not None:
            return example
        language = self.detect(example.answer)
        if language is None:
            return example
        return example.model_copy(update={"language": language})


class LanguageFilter(ExampleFilter):
    """Drops examples whose language is not allowed; detects it when ``language`` is unset.

    An empty ``allowed`` list keeps every language; an undetectable (short) answer is kept.
    """

    def __init__(self, allowed: Iterable[str], identifier: LanguageIdentifier) -> None:
        self.allowed = frozenset(a.lower() for a in allowed)
        self.identifier = identifier

    def check(self, example: Example) -> DropReason | None:
        if not self.allowed:
            return None
        language = example.language or self.identifier.detect(example.answer)
        if language is None:
            return None
        primary = language.lower().replace("_", "-").split("-")[0]
        return None if primary in self.allowed else DropReason.LANGUAGE_NOT_ALLOWED
