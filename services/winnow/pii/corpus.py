"""A planted-PII corpus and the recall/precision measurement of ``winnow.pii.redact``.

``generate_corpus(n, seed)`` writes ``n`` support-style texts, each with 0-3 planted PII values
of every ``PiiType`` in varied formats and 1-3 hard negatives (order numbers, dates, prices,
versions, tracking numbers, placeholders, UUIDs, numbers failing their checksum...), with the
character span of every planted value. The same seed gives the same corpus.

``measure_redaction(n, seed)`` scores ``find_pii`` on it, span by span:

* a planted value is *recalled* when none of its characters survives redaction (whatever
  placeholder replaced it); *typed* when a hit of its own type covers it;
* a hit is a *false positive* when it removes no character of any planted value; it *overruns*
  when it removes planted characters and others too (strict precision counts those as wrong).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from winnow.pii.corpus_values import NEGATIVES, VALUES, Rng
from winnow.pii.redact import find_pii
from winnow.pii.types import PATTERN_TYPES, PiiType

_TEMPLATES: dict[PiiType, tuple[str, ...]] = {
    PiiType.EMAIL: (
        "You can reach me at {}.",
        "Please send the invoice to {} instead.",
        "My account email is {} but I never got the code.",
        "Contact: {}",
        "I changed my login to {} last week.",
    ),
    PiiType.PHONE: (
        "Call me back on {} after 5pm.",
        "My phone number is {}.",
        "Best number to reach me: {}",
        "The courier tried {} but nobody answered.",
        "Please update my mobile to {}, thanks.",
    ),
    PiiType.CARD: (
        "I was charged twice on card {}.",
        "The card ending in the number {} was declined.",
        "Card: {} exp 08/27",
        "Can you refund it to {} please?",
    ),
    PiiType.IBAN: (
        "Please refund to IBAN {}.",
        "My bank account is {}, BIC DEUTDEFF.",
        "Wire it to {} and send the receipt.",
    ),
    PiiType.SSN: (
        "My SSN is {}.",
        "For the tax form: {}",
        "Social security number {} is on file.",
    ),
    PiiType.IP: (
        "Our server at {} cannot reach your API.",
        "The login came from {}, which is not me.",
        "Whitelist {} for the webhook please.",
    ),
    PiiType.URL_TOKEN: (
        "The reset link {} has expired.",
        "I clicked {} and got a 403.",
        "Here is the download link: {}",
    ),
    PiiType.SECRET: (
        "I accidentally pasted my key {} in the chat.",
        "Our integration uses {} and it stopped working.",
        "Config:\n{}\nis that right?",
        "The token {} returns unauthorized.",
    ),
}

_NEG_TEMPLATES = (
    "Your order {} has shipped.",
    "It was placed on {} and charged {}.",
    "Reference {} for your records.",
    "We updated the app to {} yesterday.",
    "Tracking number: {}",
    "Please quote {} when you reply.",
    "The total came to {} including tax.",
    "Delivery is expected by {}.",
    "See {} for details.",
)

_FILLERS = (
    "Hi team,",
    "Hello,",
    "Thanks for getting back to me.",
    "I have been waiting for two weeks now.",
    "Could you look into this today?",
    "Thank you for contacting Acme support.",
    "I'm sorry for the trouble.",
    "Let me check that for you.",
    "Best regards,",
    "Is there anything else I can help with?",
)


@dataclass(frozen=True, slots=True)
class Planted:
    """A PII value planted in a corpus text: ``text[start:end]`` is the value."""

    start: int
    end: int
    type: PiiType


@dataclass(frozen=True, slots=True)
class CorpusItem:
    """One generated text with its planted values and the kinds of hard negatives it holds."""

    text: str
    planted: tuple[Planted, ...]
    negatives: tuple[tuple[int, int, str], ...]


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.planted: list[Planted] = []
        self.negatives: list[tuple[int, int, str]] = []

    def add(self, s: str) -> None:
        self.parts.append(s)
        self.size += len(s)

    def fill(self, template: str, values: list[tuple[str, PiiType | str]]) -> None:
        pieces = template.split("{}")
        for piece, (value, label) in zip(pieces, values, strict=False):
            self.add(piece)
            span = (self.size, self.size + len(value))
            if isinstance(label, PiiType):
                self.planted.append(Planted(*span, label))
            else:
                self.negatives.append((*span, label))
            self.add(value)
        self.add(pieces[-1])


def _item(rng: Rng) -> CorpusItem:
    b = _Builder()
    sentences: list[tuple[str, list[tuple[str, PiiType | str]]]] = []
    for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
        kind = rng.choice(list(VALUES))
        value, context = VALUES[kind](rng)
        template = context or rng.choice(_TEMPLATES[kind])
        sentences.append((template, [(value, kind)]))
    for _ in range(rng.randint(1, 3)):
        template = rng.choice(_NEG_TEMPLATES)
        labels = rng.sample(sorted(NEGATIVES), template.count("{}"))
        sentences.append((template, [(NEGATIVES[k](rng), k) for k in labels]))
    rng.shuffle(sentences)
    b.add(rng.choice(_FILLERS) + " ")
    for template, values in sentences:
        b.fill(template, values)
        b.add(rng.choice((" ", " ", "\n", " ")))
    b.add(rng.choice(_FILLERS))
    return CorpusItem("".join(b.parts), tuple(b.planted), tuple(b.negatives))


def generate_corpus(n: int, seed: int = 0) -> list[CorpusItem]:
    """``n`` support texts with planted PII and hard negatives; deterministic for a seed."""
    rng = random.Random(seed)
    return [_item(rng) for _ in range(n)]


@dataclass(slots=True)
class TypeStats:
    """Span-level counts for one type (planted side and predicted side)."""

    planted: int = 0
    recalled: int = 0
    typed: int = 0
    predicted: int = 0
    false_positives: int = 0
    overruns: int = 0

    @property
    def recall(self) -> float:
        """Planted values with no character left, over planted values (1.0 when none)."""
        return self.recalled / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        """Hits that removed planted characters, over hits (1.0 when none)."""
        return 1 - self.false_positives / self.predicted if self.predicted else 1.0

    @property
    def strict_precision(self) -> float:
        """Hits that removed planted characters and nothing else, over hits."""
        bad = self.false_positives + self.overruns
        return 1 - bad / self.predicted if self.predicted else 1.0


@dataclass(slots=True)
class RedactionReport:
    """Per-type and overall scores of one corpus run, with throughput."""

    per_type: dict[PiiType, TypeStats]
    overall: TypeStats
    items: int
    chars: int
    seconds: float
    negatives_hit: Counter[str] = field(default_factory=Counter)

    @property
    def chars_per_second(self) -> float:
        """Characters scanned per second by ``find_pii`` (one core)."""
        return self.chars / self.seconds if self.seconds else 0.0

    def table(self) -> str:
        """A Markdown table of the scores, then throughput and any hard negatives hit."""
        rows = [
            "| type | planted | recall | typed | hits | precision | strict precision |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, s in [
            *((t.value, self.per_type[t]) for t in PATTERN_TYPES),
            ("all", self.overall),
        ]:
            typed = s.typed / s.planted if s.planted else 1.0
            rows.append(
                f"| {name} | {s.planted} | {s.recall:.4f} | {typed:.4f} | {s.predicted} "
                f"| {s.precision:.4f} | {s.strict_precision:.4f} |"
            )
        rows.append("")
        rows.append(
            f"{self.items} texts, {self.chars:,} chars in {self.seconds:.2f} s: "
            f"{self.chars_per_second:,.0f} chars/s, {self.items / self.seconds:,.0f} texts/s"
        )
        if self.negatives_hit:
            hit = ", ".join(f"{k}: {v}" for k, v in self.negatives_hit.most_common())
            rows.append(f"hard negatives touched: {hit}")
        return "\n".join(rows)


def evaluate(items: list[CorpusItem]) -> RedactionReport:
    """Score ``find_pii`` on ``items`` (see the module docstring for the rules)."""
    per_type = {t: TypeStats() for t in PATTERN_TYPES}
    negatives_hit: Counter[str] = Counter()
    seconds = 0.0
    for item in items:
        t0 = time.perf_counter()
        hits = find_pii(item.text)
        seconds += time.perf_counter() - t0
        covered = bytearray(len(item.text))
        planted_chars = bytearray(len(item.text))
        for h in hits:
            covered[h.start : h.end] = b"\x01" * (h.end - h.start)
        for p in item.planted:
            planted_chars[p.start : p.end] = b"\x01" * (p.end - p.start)
            stats = per_type[p.type]
            stats.planted += 1
            if all(covered[p.start : p.end]):
                stats.recalled += 1
                stats.typed += any(
                    h.type is p.type and h.start < p.end and p.start < h.end for h in hits
                )
        for h in hits:
            stats = per_type[h.type]
            stats.predicted += 1
            inside = planted_chars[h.start : h.end]
            if not any(inside):
                stats.false_positives += 1
            elif not all(inside):
                stats.overruns += 1
        for start, end, kind in item.negatives:
            if any(covered[start:end]):
                negatives_hit[kind] += 1
    overall = TypeStats()
    for s in per_type.values():
        for name in TypeStats.__slots__:
            setattr(overall, name, getattr(overall, name) + getattr(s, name))
    chars = sum(len(i.text) for i in items)
    return RedactionReport(per_type, overall, len(items), chars, seconds, negatives_hit)


def measure_redaction(n: int = 20000, seed: int = 0) -> RedactionReport:
    """Generate ``n`` texts with ``seed`` and score redaction on them."""
    return evaluate(generate_corpus(n, seed))


__all__ = [
    "CorpusItem",
    "Planted",
    "RedactionReport",
    "TypeStats",
    "evaluate",
    "generate_corpus",
    "measure_redaction",
]
