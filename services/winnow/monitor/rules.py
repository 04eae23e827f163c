"""Alert rules from a YAML file, and the engine that fires each alert once and resolves it.

A rule names a ``kind`` (what it measures in a window), a ``threshold``, a ``severity``, ``for``
(breaching windows in a row before it fires) and ``resolve_after`` (healthy windows in a row
before it resolves). ``resolve_below`` (default: the threshold) adds value hysteresis: an active
alert counts a window as healthy only at or below it. A window without enough data
(``min_events``) leaves the counters as they are. An active alert is never sent again until it
resolves, so alternating windows neither flap nor repeat.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from winnow.monitor.window import WindowSummary

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.yaml")


class RuleKind(StrEnum):
    """What a rule measures in one window."""

    REJECT_RATE = "reject_rate"
    """Share of examples rejected (``reason`` limits it to one drop reason)."""
    DLQ_RATE = "dlq_rate"
    """Share of records dead-lettered (``reason`` limits it to one DLQ reason)."""
    GE_FAILURE = "ge_failure"
    """Failed expectations of the window's Great Expectations run."""
    DRIFT = "drift"
    """PSI of the metrics matching ``metric`` (a glob: ``score:*``, ``length``, ``domain_mix``)."""
    PII_RATE = "pii_rate"
    """Share of examples with at least one PII redaction."""
    SOURCE_SILENT = "source_silent"
    """Seconds a source has been silent while others went on: from its last record to the newest
    record of any source (one alert per source), in windows of at least ``min_events`` records.
    A stall of the whole stream (a stopped broker, a starved curator) moves no source ahead of
    another, so it fires ``stream_silent`` once rather than one alert per source."""
    STREAM_SILENT = "stream_silent"
    """Seconds since the last record of any source: nothing reaches the monitor at all."""
    RETRAIN_BACKLOG = "retrain_backlog"
    """Curated examples not yet in a retrain snapshot."""


class Severity(StrEnum):
    """Alertmanager-style severities."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Rule(BaseModel):
    """One alert rule as written in the rules file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: RuleKind
    severity: Severity = Severity.WARNING
    threshold: float
    resolve_below: float | None = Field(None, description="Healthy at or below (hysteresis).")
    for_windows: int = Field(1, ge=1, alias="for")
    resolve_after: int = Field(1, ge=1)
    min_events: int = Field(0, ge=0, description="Fewer records: the window does not count.")
    reason: str | None = None
    metric: str = "*"
    summary: str = ""
    baseline_windows: int = Field(
        0,
        ge=0,
        description="0: the threshold is absolute. N > 0: the value is the rise over the "
        "stream's own recent level (an exponential average over about N windows, frozen while "
        "the alert fires), and the rule stays quiet until N windows were seen.",
    )

    @property
    def healthy_at(self) -> float:
        return self.threshold if self.resolve_below is None else self.resolve_below


class RuleFile(BaseModel):
    """The rules file: ``rules: [...]``."""

    model_config = ConfigDict(extra="forbid")

    rules: list[Rule]


def load_rules(path: Path | None = None) -> list[Rule]:
    """The rules of a YAML file (the packaged ``rules.yaml`` by default); names must be unique."""
    doc = yaml.safe_load((path or DEFAULT_RULES_PATH).read_text()) or {"rules": []}
    rules = RuleFile.model_validate(doc).rules
    names = [r.name for r in rules]
    if len(names) != len(set(names)):
        raise ValueError(f"duplicate rule names in {path}: {names}")
    return rules


@dataclass(frozen=True)
class Observation:
    """What the monitor knows at a window's close, beyond the window's records."""

    summary: WindowSummary
    drift: Mapping[str, float] = field(default_factory=dict)
    ge_failed: int | None = None
    retrain_backlog: int | None = None
    now: datetime | None = None


def measure(rule: Rule, obs: Observation) -> dict[tuple[tuple[str, str], ...], float]:
    """The rule's value per alert instance (extra labels); instances without data are absent."""
    s = obs.summary
    if rule.kind is RuleKind.REJECT_RATE:
        if s.examples < max(rule.min_events, 1):
            return {}
        value = s.reject_reason_rate(rule.reason) if rule.reason else s.rejected / s.examples
        return {(): float(value or 0.0)}
    if rule.kind is RuleKind.DLQ_RATE:
        if s.events < max(rule.min_events, 1):
            return {}
        n = s.dlq_reasons[rule.reason] if rule.reason else s.dlq
        return {(): n / s.events}
    if rule.kind is RuleKind.PII_RATE:
        if s.examples < max(rule.min_events, 1):
            return {}
        return {(): s.examples_with_pii / s.examples}
    if rule.kind is RuleKind.GE_FAILURE:
        return {} if obs.ge_failed is None else {(): float(obs.ge_failed)}
    if rule.kind is RuleKind.DRIFT:
        return {
            (("metric", m),): v for m, v in obs.drift.items() if fnmatch.fnmatch(m, rule.metric)
        }
    if rule.kind is RuleKind.SOURCE_SILENT:
        # Only a window where records flow can tell one source from the rest: the first trickle
        # after a stall (one record of one source) would blame every other source.
        if not s.last_seen or s.events < rule.min_events:
            return {}
        newest = max(s.last_seen.values())
        return {(("source", src),): (newest - t).total_seconds() for src, t in s.last_seen.items()}
    if rule.kind is RuleKind.STREAM_SILENT:
        silent = s.silent_seconds(obs.now)
        return {(): min(silent.values())} if silent else {}
    if rule.kind is RuleKind.RETRAIN_BACKLOG:
        return {} if obs.retrain_backlog is None else {(): float(obs.retrain_backlog)}
    raise AssertionError(rule.kind)


@dataclass(frozen=True)
class AlertTransition:
    """An alert that fired or resolved at a window's close."""

    rule: str
    severity: Severity
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    value: float
    threshold: float
    started_at: datetime
    ended_at: datetime | None
    summary: str

    @property
    def fingerprint(self) -> str:
        """Stable id of the alert instance (rule + labels), as Alertmanager would key it."""
        key = "|".join([self.rule, *(f"{k}={v}" for k, v in sorted(self.labels.items()))])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def id(self) -> str:
        """Id of one firing of the instance (fingerprint + start): firing and resolve share it."""
        return hashlib.sha256(
            f"{self.fingerprint}@{self.started_at.isoformat()}".encode()
        ).hexdigest()[:32]


@dataclass
class _State:
    breaching: int = 0
    healthy: int = 0
    active_since: datetime | None = None
    last_value: float = 0.0


class AlertEngine:
    """Keeps per-instance counters across windows; ``evaluate`` returns only changes."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)
        self._state: dict[tuple[str, tuple[tuple[str, str], ...]], _State] = {}
        # (rule, labels) -> (recent level, windows seen), for baseline-relative rules.
        self._baseline: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, int]] = {}

    def evaluate(self, obs: Observation | WindowSummary) -> list[AlertTransition]:
        """Advance every rule by one window; the alerts that fired or resolved in it."""
        if isinstance(obs, WindowSummary):
            obs = Observation(obs)
        at = obs.now or obs.summary.end
        out: list[AlertTransition] = []
        for rule in self.rules:
            for labels, measured in measure(rule, obs).items():
                st = self._state.setdefault((rule.name, labels), _State())
                value = (
                    self._relative(rule, labels, measured, st)
                    if rule.baseline_windows
                    else measured
                )
                if value is None:
                    continue
                st.last_value = value
                if st.active_since is None:
                    st.breaching = st.breaching + 1 if value > rule.threshold else 0
                    if st.breaching >= rule.for_windows:
                        st.active_since, st.healthy = at, 0
                        out.append(self._transition(rule, labels, value, "firing", at, None))
                else:
                    st.healthy = st.healthy + 1 if value <= rule.healthy_at else 0
                    if st.healthy >= rule.resolve_after:
                        out.append(
                            self._transition(rule, labels, value, "resolved", st.active_since, at)
                        )
                        st.active_since, st.breaching, st.healthy = None, 0, 0
        return out

    def _relative(
        self, rule: Rule, labels: tuple[tuple[str, str], ...], value: float, st: _State
    ) -> float | None:
        """``value`` minus the recent level; None while the level is still being learnt."""
        key = (rule.name, labels)
        level, seen = self._baseline.get(key, (value, 0))
        rise = value - level if seen >= rule.baseline_windows else None
        if st.active_since is None:  # a spike must not become the new normal while it fires
            alpha = 2.0 / (rule.baseline_windows + 1)
            self._baseline[key] = (level + alpha * (value - level), seen + 1)
        return rise

    def active(self) -> list[AlertTransition]:
        """Every alert firing now."""
        by_name = {r.name: r for r in self.rules}
        return [
            self._transition(by_name[name], labels, st.last_value, "firing", st.active_since, None)
            for (name, labels), st in self._state.items()
            if st.active_since is not None and name in by_name
        ]

    @staticmethod
    def _transition(
        rule: Rule,
        labels: tuple[tuple[str, str], ...],
        value: float,
        status: Literal["firing", "resolved"],
        started: datetime,
        ended: datetime | None,
    ) -> AlertTransition:
        text = rule.summary or f"{rule.kind.value} {value:.3g} > {rule.threshold:g}"
        return AlertTransition(
            rule=rule.name,
            severity=rule.severity,
            status=status,
            labels=dict(labels),
            value=value,
            threshold=rule.threshold,
            started_at=started,
            ended_at=ended,
            summary=text.format(value=value, threshold=rule.threshold, **dict(labels)),
        )


def utcnow() -> datetime:
    """Now, timezone-aware (UTC)."""
    return datetime.now(UTC)


def as_labels(mapping: Mapping[str, Any]) -> dict[str, str]:
    """String labels for Prometheus and Alertmanager."""
    return {k: str(v) for k, v in mapping.items()}
