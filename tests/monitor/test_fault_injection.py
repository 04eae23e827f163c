"""Fault injection on the real broker: a healthy stream raises nothing; each way it turns bad fires
exactly its own alert, once, and recovery resolves it.

One pipeline (Tansu, validator, scorer, curator and the monitor, as ``winnow up`` runs them) is
shared by the whole module, fed by one steady generated stream; each test turns that stream bad
for a while and back, and asserts on the alerts of its own time span, on the alerts topic and in
the alerts table. The tests run in file order and each starts from a quiet monitor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.monitor.helpers import (
    AlertRecord,
    ClosedWindow,
    Fault,
    Feeder,
    MisalignedAnswers,
    closed_windows,
    empty_answer,
    read_alerts,
    silence,
    ticket_text_renamed,
    with_pii,
)

from winnow.agents.supervisor import Supervisor
from winnow.monitor.store import MonitorStore, StoredAlert
from winnow.settings import Settings
from winnow.store.migrate import upgrade
from winnow.topics import TopicLayout

pytestmark = pytest.mark.integration

WINDOW_S = 2.0
# Short windows, and thresholds far from what the healthy stream measured: empty answers, dead
# letters and PII 0; no source more than a second or two behind the others in a window where
# records flow (a starved curator stalls the whole stream for up to ~9 s; the first trickle after
# it is below min_events). Drift watches relevance, the score misaligned answers move (PSI 3-11
# measured): on windows of 25-100 curated examples a healthy window's PSI reaches ~1.2 (the
# router's confidence, not watched, as much), hence a threshold of 2 where production's is 0.25.
RULES = """
rules:
  - {name: empty_answers, kind: reject_rate, reason: empty_answer, severity: warning,
     threshold: 0.2, resolve_below: 0.05, for: 2, resolve_after: 2, min_events: 20}
  - {name: dlq_spike, kind: dlq_rate, severity: critical,
     threshold: 0.2, resolve_below: 0.05, for: 1, resolve_after: 2, min_events: 20}
  - {name: pii_spike, kind: pii_rate, severity: critical, baseline_windows: 5,
     threshold: 0.25, resolve_below: 0.05, for: 1, resolve_after: 2, min_events: 20}
  - {name: source_silent, kind: source_silent, severity: warning,
     threshold: 8, for: 1, resolve_after: 1, min_events: 20}
  - {name: score_drift, kind: drift, metric: "score:relevance", severity: warning,
     threshold: 2.0, resolve_below: 1.0, for: 2, resolve_after: 2}
  - {name: ge_suite_failed, kind: ge_failure, severity: warning,
     threshold: 0, for: 1, resolve_after: 2}
"""
MONITOR_ENV = {
    "WINNOW_MONITOR_WINDOW_S": str(WINDOW_S),
    # Pinned: the reference is the stream's first healthy windows, so a lasting shift keeps
    # drifting (a rolling reference would absorb it) and recovery is measured against health.
    "WINNOW_MONITOR_DRIFT_REFERENCE": "pinned",
    "WINNOW_MONITOR_DRIFT_REFERENCE_WINDOWS": "5",
    "WINNOW_MONITOR_DRIFT_MIN_SAMPLES": "25",
}
FAULTS = [
    Fault("empty_answers", "empty_answers", {}, empty_answer, share=0.4),
    Fault("renamed_field", "dlq_spike", {}, ticket_text_renamed),
    Fault("pii_flood", "pii_spike", {}, with_pii, share=0.8),
    Fault("silent_source", "source_silent", {"source": "feedback"}, silence("feedback")),
    Fault("score_drift", "score_drift", {"metric": "score:relevance"}, MisalignedAnswers()),
]


@dataclass
class Pipeline:
    """The running pipeline, its feeder and where to look when something fails."""

    sup: Supervisor
    feeder: Feeder
    settings: Settings
    store: MonitorStore
    log_dir: Path

    @property
    def monitor_log(self) -> Path:
        return self.log_dir / "monitor.log"

    def windows(self, since: datetime | None = None) -> list[ClosedWindow]:
        return [w for w in closed_windows(self.monitor_log) if since is None or w.at >= since]

    def alerts(self, since: datetime) -> list[AlertRecord]:
        """Alerts-topic records of windows closed since ``since``."""
        layout = TopicLayout.from_settings(self.settings)
        return [r for r in read_alerts(self.settings, layout.alerts) if r.event.window_end >= since]

    def stored(self, since: datetime) -> list[StoredAlert]:
        """Alerts-table rows started or ended since ``since``."""
        return [
            a
            for a in self.store.alerts(limit=1000)
            if a.started_at >= since or (a.ended_at is not None and a.ended_at >= since)
        ]

    def explain(self, since: datetime) -> str:
        """What a failing assertion prints: alerts, the windows and the logs' folder."""
        alerts = "\n  ".join(str(a) for a in self.stored(since)) or "none"
        windows = "\n  ".join(str(w) for w in self.windows(since)[-15:]) or "none"
        return (
            f"\nalerts since {since:%H:%M:%S}:\n  {alerts}\nwindows:\n  {windows}\n"
            f"fed {self.feeder.sent}; logs in {self.log_dir}"
        )

    def wait(self, what: str, cond: Callable[[], bool], since: datetime, timeout_s: float) -> None:
        """Wait for ``cond``, supervising; on timeout fail with the alerts, windows and logs."""
        deadline = time.monotonic() + timeout_s
        while not cond():
            self.feeder.check()
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout_s:.0f} s" + self.explain(since))
            self.sup.poll()
            time.sleep(0.25)

    def wait_windows(self, n: int, since: datetime, min_curated: int = 20) -> None:
        """Wait until the monitor closed ``n`` windows with data since ``since``."""
        self.wait(
            f"{n} windows with >= {min_curated} curated examples",
            lambda: sum(w.curated >= min_curated for w in self.windows(since)) >= n,
            since,
            timeout_s=n * WINDOW_S + 30,
        )


@pytest.fixture(scope="module")
def pipeline(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Every service up with the test rules, a healthy stream flowing, drift reference pinned."""
    tmp = tmp_path_factory.mktemp("fault_injection")
    upgrade(postgres_url)
    store = MonitorStore(postgres_url)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE alerts, validation_runs"))
    rules = tmp / "rules.yaml"
    rules.write_text(RULES)
    # The embedding reward head and small batches: these tests need a steady flow of curated
    # examples every 2 s window on 2 cores, and the cross-encoder (0.44x) with 256-example
    # batches delivers them in bursts ~12 s apart. What is judged here is alerting, not reward.
    settings = Settings(
        database_url=postgres_url,
        data_dir=tmp,
        topic_partitions=1,
        batch_wait_s=0.1,
    )
    log_dir = tmp / "logs"
    env = {
        **MONITOR_ENV,
        "WINNOW_MONITOR_RULES_PATH": str(rules),
        "WINNOW_REWARD_MODEL": "head",
        "WINNOW_BATCH_MAX": "64",
    }
    with Supervisor(settings, log_dir=log_dir, extra_env=env) as sup:
        assert "monitor" in [c.name for c in sup.children]
        assert sup.broker is not None
        run = settings.model_copy(
            update={"kafka_bootstrap": sup.broker.bootstrap, "kafka_idempotence": False}
        )
        sup.wait_ready(timeout_s=120)
        feeder = Feeder(run)
        feeder.start()
        p = Pipeline(sup, feeder, run, store, log_dir)
        try:
            started = datetime.now(UTC)
            # Drift values appear once the reference windows are in: from then on all is armed.
            p.wait(
                "pinned drift reference",
                lambda: any("score:relevance" in w.drift for w in p.windows(started)),
                started,
                timeout_s=90,
            )
            yield p
        finally:
            feeder.stop()
            store.close()


def test_healthy_stream_raises_no_alert(pipeline: Pipeline) -> None:
    """Windows of a healthy stream, with every rule armed, fire nothing."""
    since = datetime.now(UTC)
    pipeline.wait_windows(5, since)
    fired = pipeline.stored(datetime.min.replace(tzinfo=UTC))
    assert fired == [], "a healthy stream raised alerts" + pipeline.explain(since)
    on_topic = pipeline.alerts(datetime.min.replace(tzinfo=UTC))
    assert on_topic == [], f"alerts topic: {on_topic}" + pipeline.explain(since)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_fires_its_alert_once_and_resolves(pipeline: Pipeline, fault: Fault) -> None:
    """The stream turns bad: exactly the fault's alert fires, once; back to healthy, it resolves,
    on the alerts topic (one firing and one resolved record, same id) and in the alerts table."""
    since = datetime.now(UTC)
    # Quiet to start with: the fixture's (or the previous test's) healthy windows fired nothing.
    assert pipeline.store.alerts(active_only=True) == [], "not quiet" + pipeline.explain(since)

    def has(status: str) -> Callable[[], bool]:
        return lambda: any(
            a.rule == fault.rule and a.labels == fault.labels and a.status == status
            for a in pipeline.stored(since)
        )

    pipeline.feeder.fault = fault
    try:
        pipeline.wait(f"{fault.rule} {fault.labels} firing", has("firing"), since, 90)
    finally:
        pipeline.feeder.fault = None
    pipeline.wait(f"{fault.rule} {fault.labels} resolved", has("resolved"), since, 90)
    pipeline.wait_windows(1, datetime.now(UTC))  # a healthy window after: nothing else fires
    expected = [(fault.rule, fault.labels, "firing"), (fault.rule, fault.labels, "resolved")]
    records: list[AlertRecord] = []

    def both_on_topic() -> bool:
        nonlocal records
        records = pipeline.alerts(since)
        return len(records) >= len(expected)

    pipeline.wait(
        "the firing and the resolved record on the alerts topic", both_on_topic, since, 15
    )
    assert [r.brief() for r in records] == expected, pipeline.explain(since)
    assert records[0].event.id == records[1].event.id
    assert records[1].event.ended_at is not None
    stored = pipeline.stored(since)
    assert [(a.rule, a.labels, a.status) for a in stored] == [
        (fault.rule, fault.labels, "resolved")
    ], pipeline.explain(since)
    assert stored[0].ended_at is not None and stored[0].ended_at > stored[0].started_at
