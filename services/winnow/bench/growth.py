"""``winnow bench growth``: curation throughput and memory as the store grows.

At each size (10k, 100k, 1M stored examples by default) the curator's per-batch work runs on the
same probe examples: ``curate_batch`` (every filter, then the duplicate index, which fetches
candidates' text from the store) and ``ExampleStore.write_decisions``. The ceiling is the same
work on an empty store, measured first in the same run. Before each measurement the index is
rebuilt from the store, as a curator does on start (``iter_dedup_signatures`` ->
``NearDuplicateIndex.rebuild``); its ceiling is reading the same signatures without indexing.

Seeding is fast on purpose: realistic rows (recombined real Q&A, production-shaped scores, the
real ``dedup_sig`` of each text, computed in bulk by ``winnow.dedup.batch``) go in with COPY, in
chunks, never through the curator. The probe's rows are deleted after each measurement so every
size holds exactly its seeds.

``--keep-db NAME`` keeps one seeded database per size (``NAME_<size>``) between runs: a run finds
them seeded and only measures; a missing one starts as a copy of the next smaller kept one
(``CREATE DATABASE ... TEMPLATE``) and is seeded with the rows it lacks (1M rows took 15 minutes
to seed on a loaded 2-core machine).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import create_engine, make_url, text

from winnow.agents.config import filter_config
from winnow.bench.corpus import bench_pairs, decided_examples, make_example
from winnow.bench.report import BenchResult, Figure, machine_info, peak_rss_bytes, rss_bytes
from winnow.bench.store import copy_batch, psycopg_url
from winnow.dedup.batch import signatures_of
from winnow.dedup.index import NearDuplicateIndex, dedup_text
from winnow.example import Example
from winnow.settings import Settings, get_settings
from winnow.stages.curate import curate_batch
from winnow.stages.filters.defaults import default_filters
from winnow.store.migrate import upgrade
from winnow.store.store import ExampleStore

if TYPE_CHECKING:
    from matplotlib.figure import Figure as PlotFigure

Tick = Callable[[int], None]
_SEED_CHUNK = 5000
_PROBE_FIRST = 10**9
"""Source event number of the first probe example: probe rows are told from seeds by it."""


@dataclass(frozen=True)
class GrowthPoint:
    """The curator's work with ``stored`` examples already in the store."""

    stored: int
    seed_s: float
    rebuild_s: float
    read_s: float
    index_bytes: int
    probe: int
    probe_s: float
    accepted: int
    rejected: int
    rss: int
    peak_rss: int
    cpu_s: float = 0.0
    """This process's CPU time for the probe (PostgreSQL's own work not included): on a shared
    machine, the figure that other people's load does not move."""
    exact_checks: int = 0
    """Candidates the index verified by exact Jaccard for the probe (text fetched from the store
    for stored ones)."""

    @property
    def per_second(self) -> float:
        """Probe examples curated and written per second."""
        return self.probe / self.probe_s

    @property
    def cpu_ms_per_example(self) -> float:
        """Curator CPU per probe example."""
        return 1000 * self.cpu_s / self.probe


def _probe_examples(pairs: list[tuple[str, str]], seed: int) -> list[Example]:
    """Undecided, scored examples: what the curator receives from the scorer."""
    decided = decided_examples(pairs, rejected_fraction=0.0, seed=seed + 1, first=_PROBE_FIRST)
    return [e.model_copy(update={"decision": None}) for e in decided]


def seed_store(
    url: str,
    pairs: list[tuple[str, str]],
    *,
    first: int,
    seed: int,
    tick: Tick | None = None,
) -> None:
    """COPY accepted examples of ``pairs`` (with their dedup keys) into ``examples``."""
    index = NearDuplicateIndex(get_settings().dedup_near_threshold)
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        for start in range(0, len(pairs), _SEED_CHUNK):
            chunk = decided_examples(
                pairs[start : start + _SEED_CHUNK],
                rejected_fraction=0.0,
                seed=seed + first + start,
                first=first + start,
            )
            sigs = signatures_of(index.hasher, [dedup_text(e) for e in chunk])
            signatures = {e.id: sig for e, sig in zip(chunk, sigs, strict=True)}
            copy_batch(
                conn, chunk, signatures, examples_table="examples", rejections_table="rejections"
            )
            if tick:
                tick(len(chunk))


def _probe_once(
    store: ExampleStore, index: NearDuplicateIndex, filters: Any, probe: list[Example], batch: int
) -> tuple[float, float, int, int]:
    """Curate and write the probe batch by batch, then delete its rows: (wall s, CPU s,
    accepted, rejected)."""
    since = datetime.now(UTC)
    accepted = rejected = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for start in range(0, len(probe), batch):
        decided, signatures = curate_batch(
            probe[start : start + batch], filters, index, store.dedup_texts
        )
        outcome = store.write_decisions(decided, signatures)
        index.forget_recent()
        accepted += len(outcome.accepted)
        rejected += len(outcome.rejected)
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    # Back to exactly the seeds: the next run and size must not hold this probe's rows.
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM examples WHERE stored_at >= :t"), {"t": since})
        conn.execute(text("DELETE FROM rejections WHERE rejected_at >= :t"), {"t": since})
    return wall_s, cpu_s, accepted, rejected


def measure_point(
    store: ExampleStore,
    settings: Settings,
    probe: list[Example],
    *,
    batch: int,
    stored: int,
    seed_s: float,
    repeat: int = 1,
) -> GrowthPoint:
    """Rebuild the index from the store, then curate and write the probe batch by batch;
    ``repeat`` times (index rebuilt each time), keeping the fastest run: load from other
    processes only ever slows a run down."""
    gc.collect()
    started = time.perf_counter()
    read = sum(1 for _ in store.iter_dedup_signatures())
    read_s = time.perf_counter() - started
    filters = default_filters(filter_config(settings))
    runs = []
    for _ in range(repeat):
        index = NearDuplicateIndex(settings.dedup_near_threshold)
        started = time.perf_counter()
        rebuilt = index.rebuild(store.iter_dedup_signatures())
        rebuild_s = time.perf_counter() - started
        if rebuilt != read or rebuilt != stored:
            raise RuntimeError(f"store holds {read} signatures, index {rebuilt}, expected {stored}")
        checks_before = index.exact_checks
        wall_s, cpu_s, accepted, rejected = _probe_once(store, index, filters, probe, batch)
        runs.append(
            (wall_s, cpu_s, accepted, rejected, rebuild_s, index.exact_checks - checks_before)
        )
    wall_s, cpu_s, accepted, rejected, rebuild_s, exact_checks = min(runs)
    return GrowthPoint(
        stored=stored,
        seed_s=seed_s,
        rebuild_s=min(r[4] for r in runs),
        read_s=read_s,
        index_bytes=index.nbytes(),
        probe=len(probe),
        probe_s=wall_s,
        accepted=accepted,
        rejected=rejected,
        rss=rss_bytes(),
        peak_rss=peak_rss_bytes(),
        cpu_s=min(r[1] for r in runs),
        exact_checks=exact_checks,
    )


class KeptStores:
    """Seeded databases kept between runs on the server at ``admin_url``: ``<name>_<size>``.

    :meth:`open` returns a database holding exactly ``size`` seeds, creating it as a copy of the
    largest smaller one it opened (or empty) when it is missing, and how many seeds it already
    held (the caller seeds the rest). Rows a killed run left (probe rows, rejections) are deleted
    first.
    """

    def __init__(self, admin_url: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        self._last: str | None = None

    def url(self, size: int) -> str:
        """The URL of the database kept for ``size`` seeds."""
        database = f"{self.name}_{size}"
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def open(self, size: int) -> tuple[str, int]:
        """(URL, seeds already there) of the database kept for ``size`` seeds."""
        database = f"{self.name}_{size}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
                ).first()
                if exists is None:
                    template = f' TEMPLATE "{self._last}"' if self._last else ""
                    conn.execute(text(f'CREATE DATABASE "{database}"{template}'))
        finally:
            admin.dispose()
        url = self.url(size)
        upgrade(url)
        have = _clean_seeds(url)
        if have > size:
            raise RuntimeError(f"{database} holds {have:,} seeds, more than {size:,}")
        self._last = database
        return url, have


def _clean_seeds(url: str) -> int:
    """Delete what is not a seed (a killed run's probe rows); return the seeds left."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM rejections"))  # seeds are all accepted
            conn.execute(
                text("DELETE FROM examples WHERE length(source_event_id) > :n"),
                {"n": len(f"e{_PROBE_FIRST - 1}")},
            )
            return int(conn.execute(text("SELECT count(*) FROM examples")).scalar_one())
    finally:
        engine.dispose()


def _check_seeds(url: str, last: tuple[str, str]) -> None:
    """Refuse a kept database whose seeds came from another corpus or seed: its last seed must
    be the text this run would have put there."""
    expected = make_example(*last, tenant="bench").id
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM examples WHERE id = :i"), {"i": expected})
            if found.first() is None:
                raise RuntimeError(
                    f"{make_url(url).database} holds other seeds (another corpus or --seed):"
                    " drop it or pick another --keep-db name"
                )
    finally:
        engine.dispose()


def run(
    url: str,
    *,
    sizes: list[int],
    probe: int,
    batch: int,
    seed: int,
    command: str,
    repeat: int = 1,
    progress: Callable[[str, int], Tick] | None = None,
    kept: KeptStores | None = None,
) -> BenchResult:
    """``winnow bench growth`` against the empty PostgreSQL database at ``url`` (or, with
    ``kept``, one kept database per size); each point keeps the fastest of ``repeat`` probe
    runs."""
    machine = machine_info()
    settings = get_settings()
    sizes = sorted(sizes)
    pairs = bench_pairs(sizes[-1] + probe, seed)
    probe_examples = _probe_examples(pairs[sizes[-1] :], seed)
    # Warm-up, untimed: the language detector loads its models on first use.
    curate_batch(probe_examples[:16], default_filters(filter_config(settings)), None)
    if kept is None:
        upgrade(url)
    points: list[GrowthPoint] = []
    have = 0
    for size in [0, *sizes]:
        if kept is not None:
            url, have = kept.open(size)
            if have:
                _check_seeds(url, pairs[have - 1])
        seed_s = 0.0
        if size > have:
            tick = progress(f"seed to {size:,}", size - have) if progress else None
            started = time.perf_counter()
            seed_store(url, pairs[have:size], first=have, seed=seed, tick=tick)
            seed_s = time.perf_counter() - started
        have = size
        store = ExampleStore(url)
        try:
            if seed_s:
                with store.engine.begin() as conn:
                    conn.execute(text("ANALYZE examples"))
            points.append(
                measure_point(
                    store,
                    settings,
                    probe_examples,
                    batch=batch,
                    stored=size,
                    seed_s=seed_s,
                    repeat=repeat,
                )
            )
        finally:
            store.close()
    return _result(points, command, machine, batch, repeat)


def _result(
    points: list[GrowthPoint], command: str, machine: Any, batch: int, repeat: int = 1
) -> BenchResult:
    empty = points[0]
    figures: list[Figure] = []
    for p in points[1:]:
        n = f"{p.stored:,} stored"
        figures += [
            Figure(
                f"curate + write, {n}",
                p.per_second,
                "examples/s",
                empty.per_second,
                "same work, empty store",
            ),
            Figure(
                f"curator CPU per example, {n}",
                p.cpu_ms_per_example,
                "ms",
                empty.cpu_ms_per_example,
                "same work, empty store",
            ),
            Figure(
                f"process RSS, {n}",
                p.rss / 2**20,
                "MiB",
                empty.rss / 2**20,
                "empty store",
            ),
            Figure(
                f"index rebuild, {n}",
                p.rebuild_s,
                "s",
                p.read_s,
                "reading the signatures alone",
            ),
        ]
    table = [
        "| stored | seed s | read sigs s | rebuild s | index MiB | probe | accepted | rejected"
        " | curate + write s | examples/s | CPU ms/ex | exact checks | RSS MiB | peak RSS MiB |",
        "|" + "---:|" * 14,
    ]
    for p in points:
        table.append(
            f"| {p.stored:,} | {p.seed_s:.1f} | {p.read_s:.2f} | {p.rebuild_s:.2f} |"
            f" {p.index_bytes / 2**20:.1f} | {p.probe:,} | {p.accepted:,} | {p.rejected:,} |"
            f" {p.probe_s:.2f} | {p.per_second:,.0f} | {p.cpu_ms_per_example:.2f} |"
            f" {p.exact_checks:,} | {p.rss / 2**20:,.0f} |"
            f" {p.peak_rss / 2**20:,.0f} |"
        )
    notes = [
        f"Probe: the same {empty.probe:,} scored examples at every size, in batches of {batch}"
        " (`curate_batch` with the default filters and the duplicate index, fetching candidates'"
        " text from the store, then `write_decisions`); their rows are deleted afterwards."
        f" Fastest of {repeat} run(s) per size, the index rebuilt before each.",
        "Seeds: accepted examples of recombined real Q&A with their real `dedup_sig`, COPYed in"
        f" chunks of {_SEED_CHUNK:,} (seed s includes computing every text's MinHash keys).",
        "RSS is this one process's (the benchmark holds the probe examples and the index, as a"
        " curator holds its batch and index); peak RSS includes seeding.",
    ]
    return BenchResult(
        name="growth",
        command=command,
        machine=machine,
        figures=figures,
        tables=["\n".join(table)],
        notes=notes,
        data={"points": points},
        plot=_plot,
    ).finish()


def _plot(result: BenchResult) -> PlotFigure:
    import matplotlib.pyplot as plt

    points: list[GrowthPoint] = result.data["points"]  # type: ignore[assignment]
    grown = points[1:]
    xs = [p.stored for p in grown]
    fig, (rate, mem) = plt.subplots(1, 2, figsize=(10, 4))
    rate.plot(xs, [p.per_second for p in grown], "o-", label="curate + write")
    rate.axhline(points[0].per_second, color="grey", linestyle="--", label="empty store (ceiling)")
    rate.set(xscale="log", xlabel="stored examples", ylabel="examples/s")
    rate.set_ylim(0, None)
    rate.legend()
    mem.plot(xs, [p.rss / 2**20 for p in grown], "o-", label="process RSS")
    mem.plot(xs, [p.index_bytes / 2**20 for p in grown], "s-", label="dedup index arrays")
    mem.set(xscale="log", xlabel="stored examples", ylabel="MiB")
    mem.legend()
    fig.suptitle("winnow bench growth: curator cost as the store grows")
    return fig
