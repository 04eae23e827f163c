"""One tumbling window of the records the monitor reads, summed up without Kafka.

``WindowStats`` is fed raw record bytes from the curated, rejected and DLQ topics (``add``) and
closed into a ``WindowSummary``: counts per (source, tenant, domain), accept / reject / DLQ
rates by reason, score and length histograms on fixed bins, PII hits by type, the language mix
and the flattened rows the Great Expectations suites validate. The summary is plain data: the
drift detector, the alert engine, the store and the dashboard all read it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from winnow.topics import SOURCE_FOR_TYPE

Outcome = Literal["curated", "rejected", "dlq"]

SCORE_EDGES: dict[str, tuple[float, ...]] = {
    "reward": tuple(i / 10 for i in range(11)),
    # The reward's rank in its domain's reference rewards (models/reward/quantiles.json): flat
    # while the stream looks like the reference, so its PSI is a per-domain reward drift signal.
    "reward_quantile": tuple(i / 10 for i in range(11)),
    "domain_confidence": tuple(i / 10 for i in range(11)),
    "relevance": tuple(-1 + i / 10 for i in range(21)),
    # 1.0 when the router agrees with the producer's mapped category (WINNOW_CATEGORY_MAP): its
    # drift (score:* PSI) is the router/producer disagreement signal.
    "router_agrees": (0.0, 0.5, 1.0),
}
"""Fixed histogram bins per score (equal bins make windows comparable and PSI well defined)."""
DEFAULT_SCORE_EDGES: tuple[float, ...] = tuple(i / 10 for i in range(11))
LENGTH_EDGES: tuple[float, ...] = (0, 1, 20, 50, 100, 200, 400, 800, 1600, 3200, 6400)
"""Answer length bins in characters (roughly doubling; the last bin is open-ended)."""
UNREADABLE = "unreadable"


def bin_index(value: float, edges: tuple[float, ...]) -> int:
    """The bin of ``value``: values below the first edge go to bin 0, above the last to the last."""
    last = len(edges) - 2
    for i in range(last + 1):
        if value < edges[i + 1]:
            return i
    return last


def source_name(topic: str | None, event_type: str | None) -> str:
    """A short source label: the source topic's last segment, else the event type's source."""
    if topic and ".sources." in topic:
        return topic.rsplit(".", 1)[-1]
    if event_type:
        return SOURCE_FOR_TYPE.get(event_type, event_type)
    return "unknown"


def _dict(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def flatten(doc: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """One row for the expectation suites, read tolerantly from an ``Example`` JSON document.

    Missing fields become ``None`` (a field renamed upstream shows as a null column and extra
    columns are kept), so the suites, not a parser, decide what is wrong.
    """
    raw_messages = doc.get("messages")
    messages: list[Any] = raw_messages if isinstance(raw_messages, list) else []
    prompt: list[Any]
    kind = doc.get("kind")
    answer: str | None
    if kind == "preference":
        answer = doc.get("chosen")
        prompt = messages
    elif messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "assistant":
        answer = messages[-1].get("content")
        prompt = messages[:-1]
    else:
        answer, prompt = None, messages
    scores = _dict(doc, "scores")
    source = _dict(doc, "source")
    row: dict[str, Any] = {
        k: v for k, v in doc.items() if not isinstance(v, dict | list) and k not in {"chosen"}
    }
    row.update(
        id=doc.get("id"),
        kind=kind,
        tenant=doc.get("tenant"),
        domain=doc.get("domain"),
        provenance=doc.get("provenance"),
        language=doc.get("language"),
        outcome=outcome,
        event_type=source.get("event_type"),
        source=source_name(source.get("topic"), source.get("event_type")),
        answer_chars=None if answer is None else len(answer),
        prompt_chars=sum(len(str(m.get("content", ""))) for m in prompt if isinstance(m, dict)),
        pii_hits=sum(v for v in _dict(doc, "redactions").values() if isinstance(v, int)),
    )
    for name, value in scores.items():
        row[f"score_{name}"] = value
    return row


@dataclass
class GroupCounts:
    """Counts of one (source, tenant, domain) group in one window."""

    curated: int = 0
    rejected: int = 0
    dlq: int = 0

    @property
    def events(self) -> int:
        return self.curated + self.rejected + self.dlq


@dataclass
class WindowSummary:
    """Everything the monitor knows about one closed window (plain data, JSON-friendly)."""

    start: datetime
    end: datetime
    groups: dict[tuple[str, str, str], GroupCounts]
    reject_reasons: Counter[str]
    dlq_reasons: Counter[str]
    pii: Counter[str]
    languages: Counter[str]
    domains: Counter[str]
    score_hist: dict[str, dict[str, list[int]]]
    """score name -> domain ("*" for all) -> counts per bin of ``SCORE_EDGES``."""
    length_hist: list[int]
    length_sum: int
    length_max: int
    examples_with_pii: int
    last_seen: dict[str, datetime]
    """source -> when the monitor last saw a record of it (carried across windows)."""
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def curated(self) -> int:
        return sum(g.curated for g in self.groups.values())

    @property
    def rejected(self) -> int:
        return sum(g.rejected for g in self.groups.values())

    @property
    def dlq(self) -> int:
        return sum(g.dlq for g in self.groups.values())

    @property
    def events(self) -> int:
        """Records seen: examples curated or rejected, plus dead letters."""
        return self.curated + self.rejected + self.dlq

    @property
    def examples(self) -> int:
        return self.curated + self.rejected

    def rate(self, what: Literal["curated", "rejected", "dlq"]) -> float | None:
        """Share of this window's records that ended ``what``; None for an empty window."""
        if not self.events:
            return None
        return int(getattr(self, what)) / self.events

    def reject_reason_rate(self, reason: str) -> float | None:
        """Share of examples rejected (at least) for ``reason``; None without examples."""
        return self.reject_reasons[reason] / self.examples if self.examples else None

    @property
    def length_mean(self) -> float | None:
        n = sum(self.length_hist)
        return self.length_sum / n if n else None

    def accept_ratio(self, tenant: str, domain: str) -> float | None:
        """Curated share of the examples of one tenant and domain."""
        cur = sum(g.curated for k, g in self.groups.items() if k[1:] == (tenant, domain))
        rej = sum(g.rejected for k, g in self.groups.items() if k[1:] == (tenant, domain))
        return cur / (cur + rej) if cur + rej else None

    def silent_seconds(self, now: datetime | None = None) -> dict[str, float]:
        """Seconds since the last record of each source seen so far."""
        at = now or self.end
        return {s: max(0.0, (at - t).total_seconds()) for s, t in self.last_seen.items()}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (no rows) for the store, the alerts topic and the dashboard."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "events": self.events,
            "curated": self.curated,
            "rejected": self.rejected,
            "dlq": self.dlq,
            "groups": [
                {"source": s, "tenant": t, "domain": d, **vars(g)}
                for (s, t, d), g in sorted(self.groups.items())
            ],
            "reject_reasons": dict(self.reject_reasons),
            "dlq_reasons": dict(self.dlq_reasons),
            "pii": dict(self.pii),
            "languages": dict(self.languages),
            "domains": dict(self.domains),
            "score_hist": self.score_hist,
            "length_hist": self.length_hist,
            "length_mean": self.length_mean,
            "length_max": self.length_max,
            "last_seen": {s: t.isoformat() for s, t in self.last_seen.items()},
        }


class WindowStats:
    """The accumulator of one window: ``add`` records, then ``close`` into a ``WindowSummary``."""

    def __init__(
        self,
        start: datetime | None = None,
        *,
        last_seen: dict[str, datetime] | None = None,
        max_rows: int = 5000,
    ) -> None:
        self.start = start or datetime.now(UTC)
        self.max_rows = max_rows
        self._groups: dict[tuple[str, str, str], GroupCounts] = {}
        self._reject_reasons: Counter[str] = Counter()
        self._dlq_reasons: Counter[str] = Counter()
        self._pii: Counter[str] = Counter()
        self._languages: Counter[str] = Counter()
        self._domains: Counter[str] = Counter()
        self._score_hist: dict[str, dict[str, list[int]]] = {}
        self._length_hist = [0] * (len(LENGTH_EDGES) - 1)
        self._length_sum = 0
        self._length_max = 0
        self._with_pii = 0
        self._last_seen = dict(last_seen or {})
        self._rows: list[dict[str, Any]] = []

    def add(self, outcome: Outcome, value: bytes, *, at: datetime | None = None) -> None:
        """Count one raw record read from the curated, rejected or DLQ topic."""
        seen = at or datetime.now(UTC)
        try:
            doc = json.loads(value)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except ValueError:
            self._group(UNREADABLE, UNREADABLE, "none", outcome)
            return
        if outcome == "dlq":
            self.add_dead_letter(doc, at=seen)
        else:
            self.add_example(doc, outcome, at=seen)

    def add_many(self, outcome: Outcome, values: Iterable[bytes]) -> None:
        """``add`` each value."""
        for v in values:
            self.add(outcome, v)

    def add_dead_letter(self, doc: dict[str, Any], *, at: datetime | None = None) -> None:
        """Count one ``DeadLetter`` document."""
        source = source_name(doc.get("topic"), None)
        self._group(source, str(doc.get("tenant") or "unknown"), "none", "dlq")
        self._dlq_reasons[str(doc.get("reason") or "unknown")] += 1
        self._last_seen[source] = at or datetime.now(UTC)

    def add_example(
        self, doc: dict[str, Any], outcome: Outcome, *, at: datetime | None = None
    ) -> None:
        """Count one curated or rejected ``Example`` document."""
        row = flatten(doc, outcome)
        domain = str(row["domain"] or "none")
        self._group(row["source"], str(row["tenant"] or "unknown"), domain, outcome)
        self._last_seen[row["source"]] = at or datetime.now(UTC)
        self._domains[domain] += 1
        self._languages[str(row["language"] or "unknown")] += 1
        if outcome == "rejected":
            decision = _dict(doc, "decision")
            for reason in decision.get("reasons") or ["unknown"]:
                self._reject_reasons[str(reason)] += 1
        redactions = _dict(doc, "redactions")
        hits = {k: v for k, v in redactions.items() if isinstance(v, int) and v > 0}
        self._pii.update(hits)
        self._with_pii += bool(hits)
        length = row["answer_chars"]
        if isinstance(length, int):
            self._length_hist[bin_index(length, LENGTH_EDGES)] += 1
            self._length_sum += length
            self._length_max = max(self._length_max, length)
        scores = _dict(doc, "scores")
        for name, value in scores.items():
            # Only model scores with known ranges: heuristic signals (answer_chars...) have none.
            if isinstance(value, int | float) and name in SCORE_EDGES:
                edges = SCORE_EDGES[name]
                per_domain = self._score_hist.setdefault(name, {})
                for key in ("*", domain):
                    hist = per_domain.setdefault(key, [0] * (len(edges) - 1))
                    hist[bin_index(float(value), edges)] += 1
        if len(self._rows) < self.max_rows:
            self._rows.append(row)

    def _group(self, source: str, tenant: str, domain: str, outcome: Outcome) -> None:
        counts = self._groups.setdefault((source, tenant, domain), GroupCounts())
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    def close(self, end: datetime | None = None) -> WindowSummary:
        """The window's summary (the accumulator can be dropped afterwards)."""
        return WindowSummary(
            start=self.start,
            end=end or datetime.now(UTC),
            groups=self._groups,
            reject_reasons=self._reject_reasons,
            dlq_reasons=self._dlq_reasons,
            pii=self._pii,
            languages=self._languages,
            domains=self._domains,
            score_hist=self._score_hist,
            length_hist=self._length_hist,
            length_sum=self._length_sum,
            length_max=self._length_max,
            examples_with_pii=self._with_pii,
            last_seen=dict(self._last_seen),
            rows=self._rows,
        )
