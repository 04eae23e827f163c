"""Builders of the records the monitor reads (curated / rejected examples, dead letters), and the
fault-injection harness: a steady generated stream on the real broker that a ``Fault`` turns bad.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from winnow.demo.generator import EventGenerator
from winnow.events import AlertEvent
from winnow.kafka.clients import consumer_kwargs, producer_kwargs
from winnow.monitor.window import WindowStats, WindowSummary
from winnow.settings import Settings
from winnow.testing.fixtures import ticket_event
from winnow.topics import SOURCE_FOR_TYPE, TopicLayout

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def example_doc(
    i: int,
    *,
    answer: str = "Reset it from the sign-in page; the link is valid for an hour.",
    reward: float = 0.8,
    domain: str = "billing",
    reasons: list[str] | None = None,
    redactions: dict[str, int] | None = None,
    tenant: str = "acme",
) -> dict[str, Any]:
    """An Example JSON document as the curator writes it."""
    return {
        "id": hashlib.sha256(f"ex-{i}".encode()).hexdigest(),
        "kind": "sft",
        "tenant": tenant,
        "domain": domain,
        "messages": [
            {"role": "user", "content": "How do I reset my password?"},
            {"role": "assistant", "content": answer},
        ],
        "provenance": "human_agent",
        "source": {
            "event_id": f"e-{i}",
            "event_type": "winnow.support_ticket.v1",
            "topic": "winnow.sources.tickets",
        },
        "language": "en",
        "scores": {"reward": reward, "relevance": 0.5, "domain_confidence": 0.9},
        "redactions": redactions or {},
        "decision": {"status": "rejected" if reasons else "accepted", "reasons": reasons or []},
        "event_time": T0.isoformat(),
    }


def dead_letter_doc(i: int, reason: str = "schema_violation") -> dict[str, Any]:
    """A DeadLetter JSON document from the validator."""
    return {
        "id": f"dl-{i}",
        "reason": reason,
        "error": "1 errors",
        "stage": "validator",
        "original": "",
        "topic": "winnow.sources.feedback",
        "tenant": "acme",
        "failed_at": T0.isoformat(),
    }


def window(
    *,
    good: int = 0,
    rejected: int = 0,
    reason: str = "empty_answer",
    dlq: int = 0,
    pii: int = 0,
    reward: float = 0.8,
    start: datetime = T0,
    seconds: float = 60,
) -> WindowSummary:
    """A closed window holding the given numbers of each kind of record."""
    from datetime import timedelta

    stats = WindowStats(start)
    at = start + timedelta(seconds=seconds / 2)
    for i in range(good):
        doc = example_doc(i, reward=reward)
        stats.add("curated", json.dumps(doc).encode(), at=at)
    for i in range(rejected):
        doc = example_doc(10_000 + i, answer="", reasons=[reason])
        stats.add("rejected", json.dumps(doc).encode(), at=at)
    for i in range(pii):
        doc = example_doc(20_000 + i, redactions={"email": 2, "phone": 1})
        stats.add("curated", json.dumps(doc).encode(), at=at)
    for i in range(dlq):
        stats.add("dlq", json.dumps(dead_letter_doc(i)).encode(), at=at)
    return stats.close(start + timedelta(seconds=seconds))


# --- Fault injection on the real broker -----------------------------------------------------

Event = dict[str, Any]
Mutation = Callable[[Event, random.Random], Event | None]


@dataclass(frozen=True)
class Fault:
    """One way a source stream turns bad, and the one alert it must fire."""

    name: str
    rule: str
    labels: dict[str, str]
    mutate: Mutation
    """Turns one healthy source event into the bad one (``None``: the event is never sent)."""
    share: float = 1.0
    """Share of the events ``mutate`` is applied to."""


def question_slot(doc: Event) -> tuple[dict[str, Any], str]:
    """Where the customer's question sits in a source event (container, key)."""
    data = doc["data"]
    if doc["type"] == "winnow.support_ticket.v1":
        return next(t for t in data["turns"] if t["speaker"] == "customer"), "text"
    if doc["type"] == "winnow.chat_feedback.v1":
        return data["messages"][-1], "content"
    return data, "prompt"


def answer_slots(doc: Event) -> list[tuple[dict[str, Any], str]]:
    """Where the answers to learn from sit in a source event (container, key)."""
    data = doc["data"]
    if doc["type"] == "winnow.support_ticket.v1":
        return [(next(t for t in reversed(data["turns"]) if t["speaker"] == "agent"), "text")]
    if doc["type"] == "winnow.chat_feedback.v1":
        slots: list[tuple[dict[str, Any], str]] = [(data, "response")]
        if "correction" in data:
            slots.append((data, "correction"))
        return slots + [(alt, "content") for alt in data.get("alternatives", [])]
    return [(data, "response")]


def source_of(doc: Event) -> str:
    """The source (topic suffix) of an event."""
    return SOURCE_FOR_TYPE[doc["type"]]


def empty_answer(doc: Event, rng: random.Random) -> Event:
    """The event's question as a ticket whose agent answer is empty."""
    container, key = question_slot(doc)
    return ticket_event(container[key], "", tenant=doc["tenant"])


def ticket_text_renamed(doc: Event, rng: random.Random) -> Event:
    """Tickets whose turns carry ``content`` instead of ``text`` (an upstream rename)."""
    if source_of(doc) == "tickets":
        for turn in doc["data"]["turns"]:
            turn["content"] = turn.pop("text")
    return doc


def with_pii(doc: Event, rng: random.Random) -> Event:
    """The customer leaves an email address and a phone number in the question."""
    container, key = question_slot(doc)
    n = rng.randrange(100)
    container[key] += f" You can reach me at jane.doe{n}@example.com or on +1 415 555 01{n:02d}."
    return doc


def silence(source: str) -> Mutation:
    """Drops every event of ``source`` (the others go on)."""

    def mutate(doc: Event, rng: random.Random) -> Event | None:
        return None if source_of(doc) == source else doc

    return mutate


class MisalignedAnswers:
    """Answers joined to the wrong questions upstream: each answer comes from another event.

    The examples stay well formed and most are still curated, but answer-to-question relevance
    collapses: a score drift no per-record rule sees.
    """

    def __init__(self, seed: int = 99) -> None:
        self.donor = EventGenerator(seed=seed, pii_fraction=0.0)

    def __call__(self, doc: Event, rng: random.Random) -> Event:
        for container, key in answer_slots(doc):
            donor, donor_key = answer_slots(self.donor.event())[0]
            container[key] = donor[donor_key]
        return doc


class Feeder(threading.Thread):
    """Produces a steady generated stream (``rate_per_s`` events) until ``stop``.

    Healthy by default: no malformed records, re-sends or PII, and a new tenant every
    ``tenant_every`` events. The generator's templated text makes every tenant's later examples
    near duplicates of its earlier ones; rotating tenants keeps the duplicate share (and with it
    the curated score mix) steady over the run. Set ``fault`` to turn the stream bad.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        rate_per_s: float = 40.0,
        tick_s: float = 0.25,
        seed: int = 5,
        tenant_every: int = 60,
    ) -> None:
        super().__init__(name="fault-feeder", daemon=True)
        self.settings = settings
        self.layout = TopicLayout.from_settings(settings)
        self.per_tick = max(1, round(rate_per_s * tick_s))
        self.tick_s = tick_s
        self.tenant_every = tenant_every
        self.gen = EventGenerator(
            seed=seed, bad_fraction=0.0, duplicate_fraction=0.0, pii_fraction=0.0
        )
        self.rng = random.Random(seed)
        self.fault: Fault | None = None
        self.sent: dict[str, int] = {}
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self._events = 0

    def next_records(self) -> list[tuple[str, bytes]]:
        """One tick's (topic, value) records, with the current fault applied."""
        fault = self.fault
        out = []
        for _ in range(self.per_tick):
            self.gen.tenants = [f"fi-{self._events // self.tenant_every}"]
            self._events += 1
            doc: Event | None = self.gen.event()
            if doc is not None and fault is not None and self.rng.random() < fault.share:
                doc = fault.mutate(doc, self.rng)
            if doc is not None:
                source = source_of(doc)
                self.sent[source] = self.sent.get(source, 0) + 1
                out.append((self.layout.source(source), json.dumps(doc).encode()))
        return out

    def run(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # surfaced by check(): a dead feeder must fail the test
            self.error = exc

    async def _run(self) -> None:
        producer = AIOKafkaProducer(**producer_kwargs(self.settings))
        await producer.start()
        try:
            next_at = time.monotonic()
            while not self._halt.is_set():
                futures = [await producer.send(t, value=v) for t, v in self.next_records()]
                await asyncio.gather(*futures)
                # Paced on a schedule, not a sleep per tick: a slow send does not lower the rate.
                next_at = max(next_at + self.tick_s, time.monotonic() - 1.0)
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        finally:
            await producer.stop()

    def check(self) -> None:
        """Raise if the feeder died."""
        if self.error is not None or not self.is_alive():
            raise AssertionError(f"the feeder stopped: {self.error!r}")

    def stop(self) -> None:
        """Stop producing and wait for the thread."""
        self._halt.set()
        self.join(30)


@dataclass(frozen=True)
class AlertRecord:
    """One record of the alerts topic."""

    partition: int
    offset: int
    event: AlertEvent

    def brief(self) -> tuple[str, dict[str, str], str]:
        """(rule, labels, status): what a test compares."""
        return self.event.rule, self.event.labels, self.event.status


def read_alerts(settings: Settings, topic: str) -> list[AlertRecord]:
    """Every record of the alerts topic, read to its end offsets (oldest window first)."""
    return sorted(
        asyncio.run(_read_to_end(settings, topic)),
        key=lambda r: (r.event.window_end, r.event.status != "firing", r.partition, r.offset),
    )


async def _read_to_end(settings: Settings, topic: str) -> list[AlertRecord]:
    consumer = AIOKafkaConsumer(**consumer_kwargs(settings))
    await consumer.start()
    try:
        await consumer.topics()  # fetches the cluster's metadata, partitions included
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[AlertRecord] = []
        deadline = time.monotonic() + 15
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end offsets {ends}")
            for tp, msgs in (await consumer.getmany(*tps, timeout_ms=500)).items():
                out += [
                    AlertRecord(tp.partition, m.offset, AlertEvent.model_validate_json(m.value))
                    for m in msgs
                    if m.value is not None
                ]
        return out
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class ClosedWindow:
    """A ``window_closed`` line of the monitor's log."""

    at: datetime
    events: int
    curated: int
    rejected: int
    dlq: int
    drift: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        drift = ",".join(f"{k}={v}" for k, v in sorted(self.drift.items()))
        return (
            f"{self.at:%H:%M:%S.%f}"[:-3]
            + f" events={self.events} curated={self.curated} rejected={self.rejected}"
            + f" dlq={self.dlq} drift[{drift}]"
        )


def closed_windows(log: Path) -> list[ClosedWindow]:
    """The windows the monitor logged as closed, oldest first."""
    out: list[ClosedWindow] = []
    if not log.exists():
        return out
    for line in log.read_text(errors="replace").splitlines():
        if '"window_closed"' not in line:
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if doc.get("event") != "window_closed":
            continue
        out.append(
            ClosedWindow(
                at=datetime.fromisoformat(doc["timestamp"].replace("Z", "+00:00")),
                events=int(doc.get("events", 0)),
                curated=int(doc.get("curated", 0)),
                rejected=int(doc.get("rejected", 0)),
                dlq=int(doc.get("dlq", 0)),
                drift={k: float(v) for k, v in (doc.get("drift") or {}).items()},
            )
        )
    return out
