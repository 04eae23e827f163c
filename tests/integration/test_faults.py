"""Faults on the real broker and PostgreSQL: every event still ends stored exactly once.

One pipeline (validator, scorer, two curators; PostgreSQL behind a ``TcpProxy`` the tests cut)
serves every test in order; each test produces its own events and accounts for those alone: each
event's examples end curated, rejected or dead-lettered, once per example, with the content the
stages give them. A failure names the folder of the services' logs.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from tests.integration.fault_filters import CRASH_FLAG_ENV, CRASH_MARKER, POISON_MARKER
from tests.integration.helpers import fresh_store, metric, produce_records, wait_until

from winnow.agents.runtime import EXIT_UNDRAINED
from winnow.agents.supervisor import Child, Supervisor
from winnow.demo.generator import EventGenerator
from winnow.events import DeadLetter
from winnow.example import Example
from winnow.settings import Settings
from winnow.stages.decode import Coordinates
from winnow.stages.validate import validate_record
from winnow.store import ExampleStore
from winnow.store.tables import DeadLetterRow, ExampleRow, RejectionRow
from winnow.testing.fixtures import TcpProxy, as_bytes, ticket_event
from winnow.topics import TopicLayout

pytestmark = [pytest.mark.integration, pytest.mark.faults]

# Their keys land on all four partitions of the scored topic, so both curators own some.
TENANTS = ["acme", "globex", "initech", "hooli"]
GOOD = "I've refunded the second charge; it will be back on your card within five business days."

Ledger = dict[str, list[tuple[str, int]]]


@dataclass
class Pipeline:
    """The shared pipeline, and what its tests produced so far."""

    sup: Supervisor
    settings: Settings
    store: ExampleStore
    proxy: TcpProxy
    crash_flag: Path
    seeds: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    @property
    def logs(self) -> str:
        return f"logs in {self.sup.log_dir}"

    def children(self, name: str) -> list[Child]:
        return [c for c in self.sup.children if c.name == name]

    def generate(self, n: int) -> list[tuple[str, bytes]]:
        gen = EventGenerator(seed=next(self.seeds), duplicate_fraction=0.1, tenants=TENANTS)
        return [(r.source, r.value) for r in gen.records(n)]

    def produce(self, records: list[tuple[str, bytes]]) -> None:
        produce_records(self.sup, self.settings, records)

    def scored_in(self, child: Child) -> float:
        scored = TopicLayout.from_settings(self.settings).scored
        return metric(child.port, "winnow_events_in_total", f'service="curator",topic="{scored}"')


class Expected:
    """The stages' own answer for each produced event (the oracle), keyed by (event, index)."""

    def __init__(self) -> None:
        self.examples: dict[tuple[str, int], Example] = {}
        self.fanout: dict[str, int] = {}

    def add(self, records: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        for i, (_, value) in enumerate(records):
            out = validate_record(value, Coordinates("t", 0, i), max_bytes=262_144)
            assert not isinstance(out, DeadLetter), out.error
            for ex in out:
                self.examples[ex.source.event_id, ex.source.index] = ex
                self.fanout[ex.source.event_id] = ex.source.fanout
        return records


def _ledger(store: ExampleStore, ids: list[str]) -> Ledger:
    """Every stored outcome of these events: (outcome, example index) per row."""
    rows: Ledger = defaultdict(list)
    with store.engine.connect() as conn:
        for eid, idx in conn.execute(
            select(ExampleRow.source_event_id, ExampleRow.source_index).where(
                ExampleRow.source_event_id.in_(ids)
            )
        ):
            rows[eid].append(("curated", idx))
        for eid, idx in conn.execute(
            select(RejectionRow.source_event_id, RejectionRow.source_index).where(
                RejectionRow.source_event_id.in_(ids)
            )
        ):
            rows[eid].append(("rejected", idx))
        for eid, reason, original in conn.execute(
            select(DeadLetterRow.event_id, DeadLetterRow.reason, DeadLetterRow.original).where(
                DeadLetterRow.event_id.in_(ids)
            )
        ):
            # Dead-lettered examples (scorer, curator) carry the example, and so its index.
            rows[eid].append((f"dlq:{reason}", json.loads(original)["source"]["index"]))
    return rows


def _complete(p: Pipeline, expected: Expected) -> bool:
    ledger = _ledger(p.store, list(expected.fanout))
    return all(len(ledger.get(e, [])) >= n for e, n in expected.fanout.items())


def _wait_complete(p: Pipeline, expected: Expected, timeout_s: float, why: str) -> Ledger:
    def done() -> bool:
        return _complete(p, expected)

    try:
        wait_until(done, timeout_s, p.sup, why)
    except AssertionError:
        ledger = _ledger(p.store, list(expected.fanout))
        missing = [e for e, n in expected.fanout.items() if len(ledger.get(e, [])) < n]
        raise AssertionError(f"{len(missing)} events not (fully) stored {why}; {p.logs}") from None
    return _ledger(p.store, list(expected.fanout))


def _assert_exactly_once(p: Pipeline, expected: Expected, ledger: Ledger) -> None:
    """Each example of each event has exactly one outcome, with the stages' content."""
    for eid, n in expected.fanout.items():
        got = sorted(idx for _, idx in ledger[eid])
        assert got == list(range(n)), f"event {eid}: rows {ledger[eid]}; {p.logs}"
    ids = list(expected.fanout)
    with p.store.engine.connect() as conn:
        stored = [
            (r.source_event_id, r.source_index, r.kind, r.messages, r.chosen, r.rejected, r.scores)
            for r in conn.execute(select(ExampleRow).where(ExampleRow.source_event_id.in_(ids)))
        ]
        stored += [
            (
                r.source_event_id,
                r.source_index,
                r.example["kind"],
                r.example["messages"],
                r.example["chosen"],
                r.example["rejected"],
                r.scores,
            )
            for r in conn.execute(select(RejectionRow).where(RejectionRow.source_event_id.in_(ids)))
        ]
    assert stored
    for eid, idx, kind, messages, chosen, rejected, scores in stored:
        want = expected.examples[eid, idx]
        assert (kind, chosen, rejected) == (want.kind.value, want.chosen, want.rejected)
        assert messages == [m.model_dump(mode="json") for m in want.messages], eid
        # Scored by the heuristics and the ONNX models (built by `make test`).
        assert {"answer_chars", "reward", "relevance"} <= set(scores), eid


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _probe(child: Child, page: str) -> int:
    return _status(f"http://127.0.0.1:{child.port}/{page}")


@pytest.fixture(scope="module")
def pipeline(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Validator, scorer and two curators on Tansu; PostgreSQL reached through a TcpProxy."""
    tmp = tmp_path_factory.mktemp("faults")
    store = fresh_store(postgres_url)
    pg = make_url(postgres_url)
    crash_flag = tmp / "crash-flag"
    env = {
        "WINNOW_BATCH_MAX": "16",
        "WINNOW_BATCH_WAIT_S": "0.1",
        "WINNOW_STORE_PING_INTERVAL_S": "0.5",
        "WINNOW_STORE_RETRY_MAX_S": "1",
        "WINNOW_STOP_GRACE_S": "2",
        "WINNOW_CURATE_EXTRA_FILTERS": '["fault_filters:MarkerFilter"]',
        CRASH_FLAG_ENV: str(crash_flag),
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    with TcpProxy(pg.host or "127.0.0.1", pg.port or 5432) as proxy:
        settings = Settings(
            database_url=proxy.url_for(postgres_url),
            data_dir=tmp,
            topic_partitions=4,
            batch_wait_s=0.1,
        )
        with Supervisor(
            settings,
            services=("validator", "scorer", "curator", "curator"),
            log_dir=tmp / "logs",
            extra_env=env,
        ) as sup:
            sup.wait_ready(120)
            yield Pipeline(sup, settings, store, proxy, crash_flag)
    store.close()


def test_poison_example_is_dead_lettered_and_the_stream_goes_on(pipeline: Pipeline) -> None:
    """A filter raising on one example dead-letters it with the error; the rest are curated."""
    p = pipeline
    expected = Expected()
    poison = [
        ticket_event("My card was charged twice.", f"{GOOD} {POISON_MARKER}", tenant=t)
        for t in ("acme", "globex")
    ]
    records = p.generate(30)
    records[10:10] = [("tickets", as_bytes(e)) for e in poison]
    expected.add(records)
    assert all(POISON_MARKER in expected.examples[e["id"], 0].answer for e in poison)

    p.produce(records)
    ledger = _wait_complete(p, expected, 90, "after a poison example")

    for e in poison:
        assert ledger[e["id"]] == [("dlq:processing_error", 0)], p.logs
    with p.store.engine.connect() as conn:
        letters = conn.execute(
            select(DeadLetterRow).where(DeadLetterRow.event_id.in_([e["id"] for e in poison]))
        ).all()
    assert {(r.stage, r.tenant) for r in letters} == {("curator", "acme"), ("curator", "globex")}
    assert all(r.error.startswith("PoisonError: the filter cannot") for r in letters)
    assert all(json.loads(r.original)["source"]["event_type"] for r in letters)
    others = {e: n for e, n in expected.fanout.items() if e not in {d["id"] for d in poison}}
    assert all(not k.startswith("dlq") for e in others for k, _ in ledger[e]), p.logs
    _assert_exactly_once(p, expected, ledger)
    assert [c.restarts for c in p.sup.children] == [0, 0, 0, 0], p.logs
    assert all(_probe(c, "healthz") == 200 for c in p.sup.children), p.logs


def test_curator_replica_stopped_mid_stream_hands_over(pipeline: Pipeline) -> None:
    """SIGTERM one of two curators mid-stream: the other takes its partitions, then it rejoins."""
    p = pipeline
    expected = Expected()
    stopped = p.children("curator")[1]
    first = expected.add(p.generate(150))
    p.produce(first)
    wait_until(lambda: p.scored_in(stopped) > 0, 60, p.sup, "for the curator to start")
    assert stopped.proc is not None
    proc = stopped.proc
    proc.terminate()
    assert proc.wait(30) == 0, p.logs
    p.produce(expected.add(p.generate(60)))
    ledger = _wait_complete(p, expected, 120, "after a curator replica stopped")
    _assert_exactly_once(p, expected, ledger)
    wait_until(lambda: stopped.restarts == 1 and p.sup.ready()["curator"], 60, p.sup, "rejoin")


def test_kill9_each_service_mid_stream(pipeline: Pipeline) -> None:
    """kill -9 the validator, the scorer and a curator in turn, each while it holds records."""
    p = pipeline
    expected = Expected()
    victims = [p.children("validator")[0], p.children("scorer")[0], p.children("curator")[0]]
    restarts = [v.restarts for v in victims]
    inputs = {
        "validator": 'service="validator",topic=".*"',
        "scorer": 'service="scorer",topic=".*"',
    }
    for victim in victims:
        labels = inputs.get(victim.name, 'service="curator",topic=".*scored"')
        before = metric(victim.port, "winnow_events_in_total", labels)
        p.produce(expected.add(p.generate(80)))

        def busy(victim: Child = victim, labels: str = labels, before: float = before) -> bool:
            return metric(victim.port, "winnow_events_in_total", labels) > before

        wait_until(busy, 60, p.sup, f"for {victim.name} to take records")
        assert victim.proc is not None
        victim.proc.send_signal(signal.SIGKILL)
    ledger = _wait_complete(p, expected, 180, "after kill -9 of each service")
    _assert_exactly_once(p, expected, ledger)
    assert [v.restarts for v in victims] == [r + 1 for r in restarts], p.logs


def test_postgres_outage_turns_curators_unready_and_loses_nothing(pipeline: Pipeline) -> None:
    """PostgreSQL unreachable mid-stream: curators back off unready, resume when it returns."""
    p = pipeline
    expected = Expected()
    curators = p.children("curator")
    restarts = [c.restarts for c in curators]
    p.produce(expected.add(p.generate(60)))
    wait_until(lambda: len(_ledger(p.store, list(expected.fanout))) > 0, 60, p.sup, "first rows")
    errors_before = sum(
        metric(c.port, "winnow_store_errors_total", 'operation=".*"') for c in curators
    )
    curator_logs = sorted((p.sup.log_dir or Path()).glob("curator-*.log"))
    assert len(curator_logs) == 2 and not any("retry_in_s" in f.read_text() for f in curator_logs)
    p.proxy.cut()
    try:
        p.produce(expected.add(p.generate(60)))
        wait_until(
            lambda: all(_probe(c, "readyz") == 503 for c in curators),
            30,
            p.sup,
            "for /readyz to fail while PostgreSQL is cut",
        )
        # The others do not need the store: they stay ready and live.
        assert [_probe(c, "readyz") for c in p.children("validator") + p.children("scorer")] == [
            200,
            200,
        ]
        # Retries back off exponentially, 0.2 s doubling up to WINNOW_STORE_RETRY_MAX_S (1 s);
        # each wait is a jittered draw below that ceiling.
        wait_until(
            lambda: all('"retry_ceiling_s": 1.0' in log.read_text() for log in curator_logs),
            30,
            p.sup,
            "for the store retries to back off to 1 s",
        )
        errors = sum(
            metric(c.port, "winnow_store_errors_total", 'operation=".*"') for c in curators
        )
        assert errors > errors_before, p.logs
        # An outage is not a crash: liveness holds.
        assert all(_probe(c, "healthz") == 200 for c in curators), p.logs
    finally:
        p.proxy.restore()
    wait_until(
        lambda: all(_probe(c, "readyz") == 200 for c in curators),
        60,
        p.sup,
        "for /readyz to recover",
    )
    ledger = _wait_complete(p, expected, 120, "after PostgreSQL came back")
    _assert_exactly_once(p, expected, ledger)
    assert [c.restarts for c in curators] == restarts, f"the outage restarted a curator; {p.logs}"


def test_sigterm_during_store_outage_commits_nothing_unwritten(pipeline: Pipeline) -> None:
    """A graceful stop while the store is down: the unwritten batches are read again later."""
    p = pipeline
    expected = Expected()
    curators = p.children("curator")
    before = [p.scored_in(c) for c in curators]
    p.proxy.cut()
    try:
        p.produce(expected.add(p.generate(60)))
        wait_until(
            lambda: all(p.scored_in(c) > b for c, b in zip(curators, before, strict=True)),
            60,
            p.sup,
            "for both curators to hold a batch",
        )
        procs = [c.proc for c in curators]
        for proc in procs:
            assert proc is not None
            proc.terminate()
        # The grace period (2 s) passes with the batch unwritten: exit without committing.
        codes = [proc.wait(30) for proc in procs if proc is not None]
        assert codes == [EXIT_UNDRAINED, EXIT_UNDRAINED], p.logs
    finally:
        p.proxy.restore()
    logs = "".join(f.read_text() for f in (p.sup.log_dir or Path()).glob("curator-*.log"))
    assert "stop_grace_expired" in logs and "exiting_without_commit" in logs, p.logs
    ledger = _wait_complete(p, expected, 120, "after SIGTERM during a store outage")
    _assert_exactly_once(p, expected, ledger)


def test_agent_crash_fails_liveness_and_its_batch_is_read_again(pipeline: Pipeline) -> None:
    """An agent killed by an exception no handler catches: the process exits 1 and restarts,
    and the batch it held is read again (not committed)."""
    p = pipeline
    expected = Expected()
    crash = ticket_event("My card was charged twice.", f"{GOOD} {CRASH_MARKER}", tenant="hooli")
    records = p.generate(20)
    records[5:5] = [("tickets", as_bytes(crash))]
    expected.add(records)
    curators = p.children("curator")
    procs = [c.proc for c in curators]
    p.crash_flag.touch()

    def crashed() -> bool:
        return any(proc is not None and proc.poll() is not None for proc in procs)

    try:
        p.produce(records)
        wait_until(crashed, 60, p.sup, "for the curator to crash")
    finally:
        p.crash_flag.unlink()
    dead = [proc.returncode for proc in procs if proc is not None and proc.poll() is not None]
    assert dead and set(dead) == {1}, p.logs
    ledger = _wait_complete(p, expected, 120, "after an agent crash")
    assert ledger[crash["id"]] == [("curated", 0)], p.logs
    _assert_exactly_once(p, expected, ledger)
    logs = "".join(f.read_text() for f in (p.sup.log_dir or Path()).glob("curator-*.log"))
    assert "agent_crashed" in logs and "AgentKiller" in logs, p.logs
    wait_until(
        lambda: all(_probe(c, "healthz") == 200 for c in curators), 60, p.sup, "healthz back"
    )
