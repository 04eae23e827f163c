"""Two curator replicas on one tenant share the duplicate index through PostgreSQL.

Planted pairs (a text and its near or normalised copy) are split so that each replica gets one
half of every pair in the same batch, at the same moment. With the shared index every pair keeps
exactly one example; without it (each replica alone) the copies get through, which shows the
test can fail.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
from sqlalchemy import select
from tests.integration.helpers import fresh_store

from winnow.agents.curator import is_store_error, write_isolating
from winnow.agents.curator_shared import curate_and_write_shared
from winnow.dedup.index import NearDuplicateIndex
from winnow.example import Example
from winnow.stages.curate import curate_isolating
from winnow.stages.decode import Coordinates
from winnow.stages.validate import validate_record
from winnow.store import ExampleStore
from winnow.store.dedup_shared import SharedDedup
from winnow.store.tables import ExampleRow, RejectionRow
from winnow.testing.fixtures import as_bytes, ticket_event

pytestmark = pytest.mark.integration

ROUNDS = 4
PAIRS_PER_ROUND = 30
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "qua", "pel", "dor", "fin"]


def _words(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))) for _ in range(n)]


def _example(question: str, answer: str, offset: int) -> Example:
    doc = ticket_event(question, answer, tenant="acme")
    out = validate_record(as_bytes(doc), Coordinates("scored", 0, offset), max_bytes=262_144)
    assert isinstance(out, list)
    return out[0]


@dataclass
class Planted:
    """One replica's half of each pair, per round, and the pairs' event ids."""

    halves: list[list[list[Example]]]
    pairs: list[tuple[str, str]]


def _planted(seed: int) -> Planted:
    """Pairs of unrelated texts' copies: near (two words changed of 40) or normalised (case and
    digits), their halves alternating between the two replicas."""
    rng = random.Random(seed)
    halves: list[list[list[Example]]] = [[[] for _ in range(ROUNDS)] for _ in range(2)]
    pairs: list[tuple[str, str]] = []
    offset = 0
    for r in range(ROUNDS):
        for i in range(PAIRS_PER_ROUND):
            question = " ".join(_words(rng, 8)) + "?"
            words = _words(rng, 40)
            ticket = rng.randint(100, 998)
            original = " ".join(words) + f". Ticket {ticket}."
            if i % 3 == 0:  # normalised duplicate: case and digits
                copy = original.upper().replace(str(ticket), str(ticket + 1))
            else:
                changed = list(words)
                for j in rng.sample(range(len(words)), 2):
                    changed[j] = _words(rng, 1)[0]
                copy = " ".join(changed) + original[len(" ".join(words)) :]
            a = _example(question, original, offset)
            b = _example(question, copy, offset + 1)
            offset += 2
            first, second = (a, b) if i % 2 else (b, a)
            halves[0][r].append(first)
            halves[1][r].append(second)
            pairs.append((a.source.event_id, b.source.event_id))
    return Planted(halves, pairs)


Batch = Callable[[list[Example]], None]


def _replica(url: str, shared: bool) -> tuple[ExampleStore, Batch]:
    """One curator replica's batch function: its own engine, index and (maybe) shared state."""
    store = ExampleStore(url)
    index = NearDuplicateIndex()
    if shared:
        state = SharedDedup(store.engine)

        def run(batch: list[Example]) -> None:
            curate_and_write_shared(
                state,
                index,
                store,
                [],
                batch,
                write=partial(write_isolating, store),
                reraise=is_store_error,
            )

        return store, run
    index.rebuild(store.iter_dedup_signatures())

    def run_alone(batch: list[Example]) -> None:
        decided, sigs, _ = curate_isolating(batch, [], index, store.dedup_texts)
        write_isolating(store, decided, sigs)
        index.forget_recent()

    return store, run_alone


def _run_split(url: str, planted: Planted, shared: bool) -> dict[str, str]:
    """Both replicas, each batch started at the same moment; the outcome of every event."""
    replicas = [_replica(url, shared) for _ in range(2)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for batch in planted.halves[k]:
                start.wait(30)
                replicas[k][1](batch)
        except BaseException as exc:
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    store = replicas[0][0]
    with store.engine.connect() as conn:
        outcome = {e: "accepted" for (e,) in conn.execute(select(ExampleRow.source_event_id))}
        for e, reasons in conn.execute(select(RejectionRow.source_event_id, RejectionRow.reasons)):
            outcome[e] = ",".join(reasons)
    for s, _ in replicas:
        s.close()
    return outcome


def _tally(planted: Planted, outcome: dict[str, str]) -> tuple[int, int]:
    """(pairs with both halves accepted, pairs with neither accepted)."""
    both = sum(outcome[a] == outcome[b] == "accepted" for a, b in planted.pairs)
    neither = sum("accepted" not in (outcome[a], outcome[b]) for a, b in planted.pairs)
    return both, neither


def test_split_near_duplicates_are_all_caught_with_the_shared_index(postgres_url: str) -> None:
    """Every planted pair split across two replicas keeps exactly one example."""
    fresh_store(postgres_url).close()
    planted = _planted(seed=1)
    outcome = _run_split(postgres_url, planted, shared=True)
    assert len(outcome) == 2 * ROUNDS * PAIRS_PER_ROUND
    assert _tally(planted, outcome) == (0, 0)
    reasons = {outcome[a] if outcome[a] != "accepted" else outcome[b] for a, b in planted.pairs}
    assert reasons == {"near_duplicate", "normalised_duplicate"}


def test_without_the_shared_index_split_duplicates_get_through(postgres_url: str) -> None:
    """The same split with each replica on its own index: copies are accepted twice."""
    fresh_store(postgres_url).close()
    planted = _planted(seed=1)
    both, neither = _tally(planted, _run_split(postgres_url, planted, shared=False))
    assert neither == 0
    assert both >= PAIRS_PER_ROUND  # at least the first round's pairs: nothing was stored yet


def test_a_replica_joining_late_catches_up_on_rows_stored_meanwhile(postgres_url: str) -> None:
    """Rows another replica stored after this one's rebuild are caught up before a decision."""
    fresh_store(postgres_url).close()
    planted = _planted(seed=2)
    (store_a, run_a), (store_b, run_b) = (_replica(postgres_url, True) for _ in range(2))
    run_b([])  # rebuilt now, on an empty store
    run_a(planted.halves[0][0])
    run_b(planted.halves[1][0])
    with store_b.engine.connect() as conn:
        accepted = {e for (e,) in conn.execute(select(ExampleRow.source_event_id))}
    assert sum(a in accepted and b in accepted for a, b in planted.pairs) == 0
    assert len(accepted) == PAIRS_PER_ROUND
    store_a.close()
    store_b.close()
