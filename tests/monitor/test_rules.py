"""Alert rules: each kind fires once after ``for`` windows and resolves after ``resolve_after``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.monitor.helpers import T0, example_doc, window

from winnow.monitor.rules import AlertEngine, Observation, Rule, RuleKind, load_rules
from winnow.monitor.window import WindowStats, WindowSummary


def rule(kind: RuleKind, threshold: float, **kw: object) -> Rule:
    """A rule of one kind with two-window firing and resolving by default."""
    fields: dict[str, object] = {"for": 2, "resolve_after": 2, **kw}
    return Rule.model_validate({"name": kind.value, "kind": kind, "threshold": threshold, **fields})


def run(engine: AlertEngine, observations: list[Observation]) -> list[list[str]]:
    """The statuses of the transitions of each window, in order."""
    return [[t.status for t in engine.evaluate(o)] for o in observations]


def obs(summary: WindowSummary, **kw: object) -> Observation:
    return Observation(summary, **kw)  # type: ignore[arg-type]


def seen(**seconds: float) -> WindowSummary:
    """A window closed just after the newest source: each source last seen T0 + its seconds."""
    last = {src: T0 + timedelta(seconds=v) for src, v in seconds.items()}
    return WindowStats(T0, last_seen=last).close(max(last.values()) + timedelta(seconds=1))


BAD = window(good=60, rejected=40)
GOOD = window(good=95, rejected=5)


class TestHysteresis:
    def test_fires_once_and_resolves(self) -> None:
        """Two bad windows fire once; more bad windows repeat nothing; two good ones resolve."""
        engine = AlertEngine([rule(RuleKind.REJECT_RATE, 0.3, resolve_below=0.2)])
        seq = [GOOD, BAD, BAD, BAD, BAD, GOOD, GOOD, GOOD]
        assert run(engine, [obs(s) for s in seq]) == [
            [],
            [],
            ["firing"],
            [],
            [],
            [],
            ["resolved"],
            [],
        ]
        assert engine.active() == []

    def test_alternating_windows_do_not_flap(self) -> None:
        """Alternating bad and good windows never fire (for=2) nor, once active, resolve."""
        engine = AlertEngine([rule(RuleKind.REJECT_RATE, 0.3)])
        assert run(engine, [obs(s) for s in [BAD, GOOD] * 4]) == [[]] * 8
        run(engine, [obs(BAD), obs(BAD)])
        assert run(engine, [obs(s) for s in [GOOD, BAD] * 4]) == [[]] * 8
        assert [a.rule for a in engine.active()] == ["reject_rate"]

    def test_value_hysteresis(self) -> None:
        """Between resolve_below and the threshold an active alert stays active."""
        engine = AlertEngine([rule(RuleKind.REJECT_RATE, 0.3, resolve_below=0.1)])
        run(engine, [obs(BAD), obs(BAD)])
        middling = window(good=75, rejected=25)
        assert run(engine, [obs(middling)] * 4) == [[]] * 4
        assert run(engine, [obs(GOOD), obs(GOOD)]) == [[], ["resolved"]]

    def test_too_few_events_do_not_count(self) -> None:
        """Windows under min_events neither fire nor reset the breach counter."""
        engine = AlertEngine([rule(RuleKind.REJECT_RATE, 0.3, min_events=20)])
        tiny_bad = window(good=1, rejected=9)
        assert run(engine, [obs(BAD), obs(tiny_bad), obs(BAD)]) == [[], [], ["firing"]]


class TestKinds:
    def test_reject_reason(self) -> None:
        """A reason filter counts only that drop reason."""
        engine = AlertEngine([rule(RuleKind.REJECT_RATE, 0.2, reason="too_short", **{"for": 1})])
        assert run(engine, [obs(BAD)]) == [[]]
        too_short = window(good=60, rejected=40, reason="too_short")
        assert run(engine, [obs(too_short)]) == [["firing"]]

    def test_dlq_spike(self) -> None:
        """A DLQ share above the threshold fires and resolves."""
        engine = AlertEngine([rule(RuleKind.DLQ_RATE, 0.2)])
        spike, calm = window(good=50, dlq=50), window(good=100, dlq=1)
        assert run(engine, [obs(s) for s in [spike, spike, calm, calm]]) == [
            [],
            ["firing"],
            [],
            ["resolved"],
        ]

    def test_ge_failure(self) -> None:
        """Failed expectations fire; a window without a run keeps the state."""
        engine = AlertEngine([rule(RuleKind.GE_FAILURE, 0, **{"for": 1, "resolve_after": 1})])
        s = window(good=10)
        statuses = run(engine, [obs(s, ge_failed=2), obs(s), obs(s, ge_failed=0)])
        assert statuses == [["firing"], [], ["resolved"]]

    def test_drift_per_metric(self) -> None:
        """Each matching drift metric is its own alert, labelled with the metric."""
        engine = AlertEngine([rule(RuleKind.DRIFT, 0.25, metric="score:*", **{"for": 1})])
        s = window(good=10)
        fired = engine.evaluate(obs(s, drift={"score:reward": 0.9, "length": 3.0}))
        assert [(t.status, t.labels) for t in fired] == [("firing", {"metric": "score:reward"})]
        engine.evaluate(obs(s, drift={"score:reward": 0.0}))
        resolved = engine.evaluate(obs(s, drift={"score:reward": 0.0}))
        assert [t.status for t in resolved] == ["resolved"]

    def test_pii_spike(self) -> None:
        """A share of examples with PII above the threshold fires."""
        engine = AlertEngine([rule(RuleKind.PII_RATE, 0.3, **{"for": 1})])
        flood, clean = window(good=40, pii=60), window(good=100)
        assert run(engine, [obs(flood), obs(flood), obs(clean), obs(clean)]) == [
            ["firing"],
            [],
            [],
            ["resolved"],
        ]

    def test_pii_spike_relative_to_the_streams_level(self) -> None:
        """Baseline-relative: a steady 35% PII share (names, e-mails in tickets) never fires; a
        jump from that level does, and resolves once the share is back near it."""
        engine = AlertEngine(
            [
                rule(
                    RuleKind.PII_RATE,
                    0.2,
                    resolve_below=0.05,
                    baseline_windows=3,
                    **{"for": 1, "resolve_after": 1},
                )
            ]
        )
        usual, flood = window(good=65, pii=35), window(good=20, pii=80)
        assert run(engine, [obs(usual)] * 10) == [[]] * 10
        fired = engine.evaluate(obs(flood))
        assert [t.status for t in fired] == ["firing"]
        assert fired[0].value == pytest.approx(0.8 - 0.35)
        # The flood does not become the new normal while it fires.
        assert run(engine, [obs(flood), obs(usual)]) == [[], ["resolved"]]

    def test_relative_rule_waits_for_its_baseline(self) -> None:
        """No verdict before baseline_windows windows: the first flood cannot compare."""
        engine = AlertEngine([rule(RuleKind.PII_RATE, 0.2, baseline_windows=3, **{"for": 1})])
        flood = window(good=20, pii=80)
        assert run(engine, [obs(flood)] * 4) == [[]] * 4

    def test_source_silent(self) -> None:
        """A source silent past the threshold while another goes on fires for that source alone,
        and resolves once it speaks again."""
        engine = AlertEngine([rule(RuleKind.SOURCE_SILENT, 300, **{"for": 1, "resolve_after": 1})])
        early = seen(tickets=10, feedback=100)
        assert engine.evaluate(obs(early, now=T0 + timedelta(seconds=120))) == []
        gone = seen(tickets=10, feedback=400)
        fired = engine.evaluate(obs(gone, now=T0 + timedelta(seconds=420)))
        assert [(t.status, t.labels, t.value) for t in fired] == [
            ("firing", {"source": "tickets"}, 390.0)
        ]
        assert engine.evaluate(obs(seen(tickets=10, feedback=900))) == []
        resolved = engine.evaluate(obs(seen(tickets=950, feedback=960)))
        assert [(t.status, t.labels) for t in resolved] == [("resolved", {"source": "tickets"})]

    def test_stalled_stream_is_not_a_silent_source(self) -> None:
        """When every source stops at once, no source is blamed: the stream alert fires once."""
        rules = [
            rule(RuleKind.SOURCE_SILENT, 300, **{"for": 1, "resolve_after": 1}),
            rule(RuleKind.STREAM_SILENT, 300, **{"for": 1, "resolve_after": 1}),
        ]
        engine = AlertEngine(rules)
        stalled = seen(tickets=10, feedback=12)
        fired = engine.evaluate(obs(stalled, now=T0 + timedelta(seconds=1000)))
        assert [(t.rule, t.labels, t.value) for t in fired] == [("stream_silent", {}, 988.0)]
        resolved = engine.evaluate(obs(seen(tickets=1010, feedback=1011)))
        assert [(t.rule, t.status) for t in resolved] == [("stream_silent", "resolved")]

    def test_trickle_after_a_stall_blames_no_source(self) -> None:
        """With ``min_events``, a window of a few records (the first one after a stall, from one
        source) leaves the silence counters alone; a flowing window measures them."""
        engine = AlertEngine([rule(RuleKind.SOURCE_SILENT, 5, min_events=20, **{"for": 1})])
        trickle = WindowStats(T0, last_seen={"tickets": T0, "feedback": T0})
        trickle.add("curated", json.dumps(example_doc(1)).encode(), at=T0 + timedelta(seconds=9))
        first = trickle.close()
        assert first.events == 1
        assert engine.evaluate(obs(first)) == []
        flowing = window(good=20, start=T0 + timedelta(seconds=10))  # tickets only
        flowing.last_seen["feedback"] = T0
        fired = engine.evaluate(obs(flowing))
        assert [(t.status, t.labels) for t in fired] == [("firing", {"source": "feedback"})]

    def test_silence_needs_a_source_seen(self) -> None:
        """Before any record, neither silence rule has a value (nothing fires at start-up)."""
        engine = AlertEngine(
            [rule(k, 1, **{"for": 1}) for k in (RuleKind.SOURCE_SILENT, RuleKind.STREAM_SILENT)]
        )
        empty = WindowStats(T0).close(T0 + timedelta(seconds=600))
        assert engine.evaluate(obs(empty, now=T0 + timedelta(seconds=600))) == []

    def test_retrain_backlog(self) -> None:
        """A backlog above the threshold fires; an unknown backlog changes nothing."""
        engine = AlertEngine([rule(RuleKind.RETRAIN_BACKLOG, 1000, **{"for": 1})])
        s = window(good=1)
        statuses = run(engine, [obs(s, retrain_backlog=5000), obs(s), obs(s, retrain_backlog=10)])
        assert statuses == [["firing"], [], []]


class TestRulesFile:
    def test_packaged_rules_load(self) -> None:
        """The packaged rules file holds one rule per issue kind."""
        kinds = {r.kind for r in load_rules()}
        assert kinds == set(RuleKind)

    def test_unknown_field_refused(self, tmp_path: Path) -> None:
        """A typo in a rule is an error, not a silently ignored key."""
        path = tmp_path / "rules.yaml"
        path.write_text("rules:\n- {name: x, kind: reject_rate, threshold: 1, treshold: 2}\n")
        with pytest.raises(ValidationError):
            load_rules(path)

    def test_duplicate_names_refused(self, tmp_path: Path) -> None:
        """Two rules with one name are refused."""
        path = tmp_path / "rules.yaml"
        path.write_text(
            "rules:\n- {name: x, kind: reject_rate, threshold: 1}\n"
            "- {name: x, kind: dlq_rate, threshold: 1}\n"
        )
        with pytest.raises(ValueError, match="duplicate"):
            load_rules(path)

    def test_summary_template(self) -> None:
        """The summary template is filled with the value, threshold and labels."""
        r = rule(RuleKind.SOURCE_SILENT, 10, summary="{source} silent {value:.0f}s", **{"for": 1})
        fired = AlertEngine([r]).evaluate(obs(seen(tickets=30, feedback=100)))
        assert fired[0].summary == "tickets silent 70s"
