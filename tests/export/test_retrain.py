"""Retrain triggers: thresholds per domain, one event per crossing, snapshots on disk."""

from __future__ import annotations

import json
from pathlib import Path

from winnow.events import RetrainEvent, RetrainReason
from winnow.export.exporter import MANIFEST
from winnow.export.retrain import DomainStats, RetrainTrigger, due_domains
from winnow.export.tokens import CharTokenCounter
from winnow.settings import RetrainThreshold, Settings
from winnow.store import ExampleStore
from winnow.store.queries import snapshots

from .seedlib import make_example, seed


def _stats(domain: str, examples: int, tokens: int) -> DomainStats:
    return DomainStats("acme", domain, examples, tokens, None)


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(snapshot_dir=tmp_path / "snapshots", **kw)  # type: ignore[arg-type]


def _examples(n: int, start: int, domain: str = "billing", tenant: str = "acme") -> list:  # type: ignore[type-arg]
    return [
        make_example(
            f"Question number {i} about my invoice?",
            f"Answer number {i}: your invoice is in Billing, under Documents.",
            domain=domain,
            tenant=tenant,
        )
        for i in range(start, start + n)
    ]


class TestDueDomains:
    def test_thresholds_and_overrides(self, tmp_path: Path) -> None:
        """Examples, then tokens, decide; a per-domain override and 0 (off) are respected."""
        settings = _settings(
            tmp_path,
            retrain_min_examples=10,
            retrain_min_tokens=1000,
            retrain_domain_thresholds={"vip": RetrainThreshold(min_examples=2, min_tokens=0)},
        )
        due = due_domains(
            [
                _stats("a", 10, 0),
                _stats("b", 9, 999),
                _stats("c", 1, 1000),
                _stats("vip", 2, 0),
                _stats("vip2", 0, 5000),
            ],
            settings,
        )
        assert [(d.stats.domain, d.reason) for d in due] == [
            ("a", RetrainReason.MIN_EXAMPLES),
            ("c", RetrainReason.MIN_TOKENS),
            ("vip", RetrainReason.MIN_EXAMPLES),
        ]
        assert due_domains([_stats("vip", 1, 10**9)], settings) == []


class TestTrigger:
    def test_fires_at_threshold_once(self, store: ExampleStore, tmp_path: Path) -> None:
        """An event fires when the 3rd new example lands, and not again until 3 more do."""
        settings = _settings(tmp_path, retrain_min_examples=3, retrain_min_tokens=0)
        trigger = RetrainTrigger(store, settings, counter=CharTokenCounter())
        seed(store, _examples(2, 0))
        assert trigger.check() == []
        seed(store, _examples(1, 2))
        [event] = trigger.check()
        assert isinstance(event, RetrainEvent) and event.type == "winnow.retrain.v1"
        assert (event.tenant, event.domain, event.reason) == ("acme", "billing", "min_examples")
        assert event.new_examples == 3 and event.counts == {"sft": 3}
        manifest = json.loads((Path(event.path) / MANIFEST).read_text())
        assert manifest["snapshot_id"] == event.snapshot_id == Path(event.path).name
        assert trigger.check() == []
        seed(store, _examples(2, 3))
        assert trigger.check() == []
        seed(store, _examples(1, 5))
        [again] = trigger.check()
        assert again.new_examples == 3 and again.counts == {"sft": 6}
        assert again.snapshot_id != event.snapshot_id
        assert {s.id for s in snapshots(store, "acme") if s.purpose == "retrain"} == {
            event.snapshot_id,
            again.snapshot_id,
        }
        RetrainEvent.model_validate_json(again.model_dump_json())

    def test_tokens_threshold(self, store: ExampleStore, tmp_path: Path) -> None:
        """A domain with few but long examples is due by tokens, counted since the snapshot."""
        settings = _settings(tmp_path, retrain_min_examples=0, retrain_min_tokens=200)
        trigger = RetrainTrigger(store, settings, counter=CharTokenCounter())
        seed(store, [make_example("Long one?", "word " * 100)])  # 3 + 125 tokens
        assert trigger.check() == []
        [stats] = trigger.stats()
        assert stats.new_tokens == 3 + 125
        seed(store, [make_example("Long two?", "more " * 100)])
        [event] = trigger.check()
        assert event.reason is RetrainReason.MIN_TOKENS and event.new_tokens == 256
        assert trigger.stats()[0].new_tokens == 0

    def test_domains_and_tenants_are_separate(self, store: ExampleStore, tmp_path: Path) -> None:
        """Each (tenant, domain) counts its own examples and gets its own snapshot."""
        settings = _settings(tmp_path, retrain_min_examples=2, retrain_min_tokens=0)
        trigger = RetrainTrigger(store, settings, counter=CharTokenCounter())
        seed(
            store,
            _examples(2, 0)
            + _examples(1, 10, domain="shipping")
            + _examples(2, 20, tenant="globex"),
        )
        events = sorted(trigger.check(), key=lambda e: (e.tenant, e.domain))
        assert [(e.tenant, e.domain) for e in events] == [
            ("acme", "billing"),
            ("globex", "billing"),
        ]
        assert all(e.counts == {"sft": 2} for e in events)
        assert events[0].path != events[1].path


def test_no_examples_no_events(store: ExampleStore, tmp_path: Path) -> None:
    """An empty store is never due."""
    settings = _settings(tmp_path, retrain_min_examples=1)
    assert RetrainTrigger(store, settings, counter=CharTokenCounter()).check() == []


def test_retrain_snapshots_are_decontaminated(store: ExampleStore, tmp_path: Path) -> None:
    """With WINNOW_EVAL_SET_PATH the retrain snapshot leaves out examples of the eval set."""
    eval_file = tmp_path / "eval.txt"
    eval_file.write_text("Where has my parcel gone, it is late?\n", encoding="utf-8")
    settings = _settings(
        tmp_path, retrain_min_examples=4, retrain_min_tokens=0, eval_set_path=eval_file
    )
    seed(store, _examples(3, 0))
    seed(store, [make_example("where has my parcel gone - it is late", "It is on its way.")])
    [event] = RetrainTrigger(store, settings, counter=CharTokenCounter()).check()
    manifest = json.loads((Path(event.path) / MANIFEST).read_text())
    assert manifest["splits"]["decontamination"]["removed"] == 1
    assert event.counts == {"sft": 3} and event.new_examples == 4
