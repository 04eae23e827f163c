"""The monitor's per-window step without Kafka: drift, expectation suites, rules, gauges.

``Monitor.close`` takes a closed ``WindowSummary`` and returns what the service must publish.
It is blocking (GE validation) and meant to run in a thread.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from winnow.events import AlertEvent
from winnow.monitor.drift import DriftDetector
from winnow.monitor.expectations import SuiteResult, SuiteRunner
from winnow.monitor.metrics import (
    ALERTS_ACTIVE,
    DRIFT_PSI,
    GE_FAILED,
    GE_SECONDS,
    SOURCE_SILENT_SECONDS,
    WINDOW_ACCEPT_RATIO,
    WINDOW_EVENTS,
)
from winnow.monitor.rules import AlertEngine, AlertTransition, Observation, Rule
from winnow.monitor.window import WindowSummary
from winnow.settings import Settings


@dataclass
class WindowResult:
    """What one window produced."""

    summary: WindowSummary
    drift: dict[str, float]
    suites: list[SuiteResult]
    transitions: list[AlertTransition]

    @property
    def ge_failed(self) -> int | None:
        return sum(len(r.failed) for r in self.suites) if self.suites else None


def alert_event(t: AlertTransition, window_end: datetime) -> AlertEvent:
    """The alerts-topic record of a transition."""
    return AlertEvent(
        id=t.id,
        fingerprint=t.fingerprint,
        rule=t.rule,
        severity=t.severity.value,
        status=t.status,
        labels=t.labels,
        value=t.value,
        threshold=t.threshold,
        summary=t.summary,
        started_at=t.started_at,
        ended_at=t.ended_at,
        window_end=window_end,
    )


@dataclass
class Monitor:
    """Drift detector, suite runner and alert engine, advanced one window at a time."""

    rules: list[Rule]
    drift: DriftDetector
    suites: SuiteRunner | None
    history: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=120))
    """Recent window summaries (as dicts, with drift and GE results) for the dashboard."""

    def __post_init__(self) -> None:
        self.engine = AlertEngine(self.rules)

    @classmethod
    def from_settings(cls, settings: Settings, *, with_suites: bool = True) -> Monitor:
        """A monitor configured by the settings (rules file, suites folder, drift reference)."""
        from winnow.monitor.rules import load_rules

        return cls(
            rules=load_rules(settings.monitor_rules_path),
            drift=DriftDetector(
                settings.monitor_drift_reference,
                settings.monitor_drift_reference_windows,
                settings.monitor_drift_min_samples,
            ),
            suites=SuiteRunner(settings.monitor_suites_dir) if with_suites else None,
        )

    def close(
        self,
        summary: WindowSummary,
        *,
        retrain_backlog: int | None = None,
        now: datetime | None = None,
    ) -> WindowResult:
        """Advance drift, suites and rules by one window; update the gauges."""
        drift = self.drift.update(summary)
        suites = self.suites.validate(summary.rows) if self.suites and summary.rows else []
        result = WindowResult(summary, drift, suites, [])
        obs = Observation(
            summary,
            drift=drift,
            ge_failed=result.ge_failed,
            retrain_backlog=retrain_backlog,
            now=now,
        )
        result.transitions = self.engine.evaluate(obs)
        self._export(result, now)
        return result

    def _export(self, result: WindowResult, now: datetime | None) -> None:
        s = result.summary
        for outcome in ("curated", "rejected", "dlq"):
            WINDOW_EVENTS.labels(outcome).set(getattr(s, outcome))
        for tenant, domain in {(k[1], k[2]) for k in s.groups}:
            ratio = s.accept_ratio(tenant, domain)
            if ratio is not None:
                WINDOW_ACCEPT_RATIO.labels(tenant, domain).set(ratio)
        for metric, value in result.drift.items():
            DRIFT_PSI.labels(metric).set(value)
        for r in result.suites:
            GE_FAILED.labels(r.suite).set(len(r.failed))
            GE_SECONDS.labels(r.suite).set(r.duration_s)
        for source, seconds in s.silent_seconds(now).items():
            SOURCE_SILENT_SECONDS.labels(source).set(seconds)
        for t in result.transitions:
            ALERTS_ACTIVE.labels(t.rule, t.severity.value).set(
                sum(a.rule == t.rule for a in self.engine.active())
            )
        self.history.append(
            {
                **s.as_dict(),
                "drift": result.drift,
                "suites": [
                    {"suite": r.suite, "success": r.success, "failed": len(r.failed)}
                    for r in result.suites
                ],
            }
        )
