"""Alert rules: each kind fires once after ``for`` windows and resolves after ``resolve_after``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.monitor.helpers import T0, window

from winnow.monitor.rules import AlertEngine, Observation, Rule, RuleKind, load_rules
from winnow.monitor.window import WindowSummary


def rule(kind: RuleKind, threshold: float, **kw: object) -> Rule:
    """A rule of one kind with two-window firing and resolving by default."""
    fields: dict[str, object] = {"for": 2, "resolve_after": 2, **kw}
    return Rule.model_validate({"name": kind.value, "kind": kind, "threshold": threshold, **fields})


def run(engine: AlertEngine, observations: list[Observation]) -> list[list[str]]:
    """The statuses of the transitions of each window, in order."""
    return [[t.status for t in engine.evaluate(o)] for o in observations]


def obs(summary: WindowSummary, **kw: object) -> Observation:
    return Observation(summary, **kw)  # type: ignore[arg-type]


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

    def test_source_silent(self) -> None:
        """A source silent past the threshold fires for that source and resolves when it speaks."""
        engine = AlertEngine([rule(RuleKind.SOURCE_SILENT, 300, **{"for": 1, "resolve_after": 1})])
        s = window(good=5)
        assert engine.evaluate(obs(s, now=T0 + timedelta(seconds=100))) == []
        fired = engine.evaluate(obs(s, now=T0 + timedelta(seconds=400)))
        assert [(t.status, t.labels) for t in fired] == [("firing", {"source": "tickets"})]
        assert engine.evaluate(obs(s, now=T0 + timedelta(seconds=900))) == []
        later = window(good=5, start=T0 + timedelta(seconds=900))
        resolved = engine.evaluate(obs(later, now=T0 + timedelta(seconds=960)))
        assert [t.status for t in resolved] == ["resolved"]

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
        fired = AlertEngine([r]).evaluate(obs(window(good=1), now=T0 + timedelta(seconds=100)))
        assert fired[0].summary == "tickets silent 70s"
