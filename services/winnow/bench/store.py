"""``winnow bench store``: ExampleStore appends to PostgreSQL against a raw COPY of the same rows.

Winnow's path is the curator's: ``ExampleStore.write_decisions`` per batch, one transaction
each (one look-up of what the batch's events and contents already have, then COPY of the new
examples and rejections). The ceiling is the fastest way PostgreSQL takes the same rows:
psycopg ``COPY`` of the very dicts the store builds (``example_row`` / ``rejection_row``) into
scratch tables of the same shape (``CREATE TABLE ... (LIKE examples INCLUDING ALL)``: same
columns, indexes and keys), also one transaction per batch. Both start from empty tables; each
path keeps its fastest of ``repeat`` runs (load on a shared machine only ever slows a run down).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from winnow.bench.corpus import bench_pairs, decided_examples
from winnow.bench.report import BenchResult, Figure, Goal, machine_info
from winnow.dedup.index import NearDuplicateIndex
from winnow.example import Example
from winnow.store.migrate import upgrade

# The store's own row builders: the ceiling writes exactly the rows the store writes.
from winnow.store.rows import example_row, rejection_row
from winnow.store.store import ExampleStore

if TYPE_CHECKING:
    from matplotlib.figure import Figure as PlotFigure

GOAL_ROWS_PER_S = 5000.0
COPY_EXAMPLES = "bench_copy_examples"
COPY_REJECTIONS = "bench_copy_rejections"
_JSON_COLUMNS = {
    "messages",
    "scores",
    "flags",
    "model_versions",
    "reasons",
    "example",
    "redactions",
}

Tick = Callable[[int], None]


@dataclass(frozen=True)
class StoreRate:
    """Both paths at one batch size."""

    batch: int
    rows: int
    accepted: int
    rejected: int
    store_s: float
    copy_s: float

    @property
    def store_rows_per_s(self) -> float:
        """Rows per second through ``write_decisions``."""
        return self.rows / self.store_s

    @property
    def copy_rows_per_s(self) -> float:
        """Rows per second through COPY (the ceiling)."""
        return self.rows / self.copy_s


def psycopg_url(url: str) -> str:
    """A libpq URL from a SQLAlchemy one (``postgresql+psycopg://`` -> ``postgresql://``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _copy_rows(conn: psycopg.Connection[Any], table: str, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([Jsonb(row[c]) if c in _JSON_COLUMNS else row[c] for c in columns])


def copy_batch(
    conn: psycopg.Connection[Any],
    batch: Sequence[Example],
    signatures: dict[str, bytes],
    *,
    examples_table: str = COPY_EXAMPLES,
    rejections_table: str = COPY_REJECTIONS,
) -> None:
    """COPY one batch's rows (as the store would build them) in one transaction."""
    now = datetime.now(UTC)
    accepted = [e for e in batch if e.decision and e.decision.status == "accepted"]
    rejected = [e for e in batch if not (e.decision and e.decision.status == "accepted")]
    with conn.transaction():
        _copy_rows(
            conn, examples_table, [example_row(e, now, signatures.get(e.id)) for e in accepted]
        )
        _copy_rows(conn, rejections_table, [rejection_row(e, now) for e in rejected])


def _batches(examples: list[Example], size: int) -> list[list[Example]]:
    return [examples[i : i + size] for i in range(0, len(examples), size)]


def measure(
    url: str,
    examples: list[Example],
    signatures: dict[str, bytes],
    batch_sizes: list[int],
    *,
    repeat: int = 1,
    tick: Tick | None = None,
) -> list[StoreRate]:
    """Both paths at each batch size into the (migrated) database at ``url``; tables emptied."""
    store = ExampleStore(url)
    accepted = sum(1 for e in examples if e.decision and e.decision.status == "accepted")
    rates: list[StoreRate] = []
    try:
        with store.engine.begin() as conn:
            for scratch, like in ((COPY_EXAMPLES, "examples"), (COPY_REJECTIONS, "rejections")):
                conn.execute(text(f"DROP TABLE IF EXISTS {scratch}"))
                conn.execute(text(f"CREATE TABLE {scratch} (LIKE {like} INCLUDING ALL)"))
        with psycopg.connect(psycopg_url(url)) as raw:
            raw.autocommit = True  # each batch opens its own transaction, as the store does
            for size in batch_sizes:
                best_store = best_copy = float("inf")
                for _ in range(repeat):
                    with store.engine.begin() as conn:
                        conn.execute(text("TRUNCATE examples, rejections"))
                    # Fresh connections, as a curator's after a restart: TRUNCATE makes the
                    # pooled ones re-plan their prepared look-ups for an empty table (a cached
                    # sequential scan), which a store whose tables are never truncated never sees.
                    store.engine.dispose()
                    started = time.perf_counter()
                    for batch in _batches(examples, size):
                        store.write_decisions(batch, signatures)
                        if tick:
                            tick(len(batch))
                    best_store = min(best_store, time.perf_counter() - started)
                    _check_counts(store, "examples", "rejections", accepted, len(examples))
                    raw.execute(f"TRUNCATE {COPY_EXAMPLES}, {COPY_REJECTIONS}")
                    started = time.perf_counter()
                    for batch in _batches(examples, size):
                        copy_batch(raw, batch, signatures)
                        if tick:
                            tick(len(batch))
                    best_copy = min(best_copy, time.perf_counter() - started)
                    _check_counts(store, COPY_EXAMPLES, COPY_REJECTIONS, accepted, len(examples))
                rates.append(
                    StoreRate(
                        batch=size,
                        rows=len(examples),
                        accepted=accepted,
                        rejected=len(examples) - accepted,
                        store_s=best_store,
                        copy_s=best_copy,
                    )
                )
    finally:
        store.close()
    return rates


def _check_counts(
    store: ExampleStore, examples_table: str, rejections_table: str, accepted: int, total: int
) -> None:
    """Both paths must have written every row: a benchmark of a write that lost rows is void."""
    with store.engine.connect() as conn:
        n_ex = conn.execute(select(func.count()).select_from(text(examples_table))).scalar_one()
        n_rej = conn.execute(select(func.count()).select_from(text(rejections_table))).scalar_one()
    if (n_ex, n_ex + n_rej) != (accepted, total):
        raise RuntimeError(
            f"{examples_table}/{rejections_table} hold {n_ex}/{n_rej} rows, "
            f"expected {accepted}/{total - accepted}"
        )


def run(
    url: str,
    *,
    rows: int,
    batch_sizes: list[int],
    rejected_fraction: float,
    repeat: int,
    seed: int,
    command: str,
    progress: Callable[[str, int], Tick] | None = None,
) -> BenchResult:
    """``winnow bench store`` against the empty PostgreSQL database at ``url`` (migrated here)."""
    machine = machine_info()
    upgrade(url)
    examples = decided_examples(
        bench_pairs(rows, seed), rejected_fraction=rejected_fraction, seed=seed
    )
    index = NearDuplicateIndex()
    signatures = {
        e.id: index.signature_of(e)
        for e in examples
        if e.decision is not None and e.decision.status == "accepted"
    }
    tick = progress("store vs COPY", 2 * rows * repeat * len(batch_sizes)) if progress else None
    rates = measure(url, examples, signatures, batch_sizes, repeat=repeat, tick=tick)
    goal = Goal(GOAL_ROWS_PER_S, unit="rows/s")
    figures = [
        Figure(
            f"store appends, batch {r.batch}",
            r.store_rows_per_s,
            "rows/s",
            r.copy_rows_per_s,
            "raw COPY, same rows and batches",
            goal,
        )
        for r in rates
    ]
    table = [
        "| batch | rows | accepted | rejected | store s | store rows/s | COPY s | COPY rows/s |"
        " ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rates:
        table.append(
            f"| {r.batch} | {r.rows:,} | {r.accepted:,} | {r.rejected:,} | {r.store_s:.2f} |"
            f" {r.store_rows_per_s:,.0f} | {r.copy_s:.2f} | {r.copy_rows_per_s:,.0f} |"
            f" {r.store_rows_per_s / r.copy_rows_per_s:.2f} |"
        )
    notes = [
        f"Rows: {rows:,} decided examples ({rejected_fraction:.0%} rejected) built from Bitext"
        " and schema-guided-dialogue Q&A with production-shaped scores, flags and model"
        " versions; accepted ones carry their dedup signature (`dedup_sig`).",
        "Winnow: `ExampleStore.write_decisions` per batch (the curator's call). Ceiling: psycopg"
        " COPY of the same row dicts into `LIKE ... INCLUDING ALL` copies of `examples` and"
        " `rejections`, one transaction per batch. Fastest of"
        f" {repeat} run(s) each; PostgreSQL runs on the same cores as the benchmark.",
    ]
    return BenchResult(
        name="store",
        command=command,
        machine=machine,
        figures=figures,
        tables=["\n".join(table)],
        notes=notes,
        data={"rates": rates},
        plot=_plot,
    ).finish()


def _plot(result: BenchResult) -> PlotFigure:
    import matplotlib.pyplot as plt

    rates: list[StoreRate] = result.data["rates"]  # type: ignore[assignment]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sizes = [r.batch for r in rates]
    ax.plot(sizes, [r.store_rows_per_s for r in rates], "o-", label="ExampleStore.write_decisions")
    ax.plot(sizes, [r.copy_rows_per_s for r in rates], "s--", label="raw COPY (ceiling)")
    ax.axhline(GOAL_ROWS_PER_S, color="grey", linestyle=":", label="goal 5,000 rows/s")
    ax.set(xscale="log", xlabel="batch size (rows)", ylabel="rows/s", ylim=(0, None))
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.legend()
    ax.set_title("winnow bench store: appends to PostgreSQL")
    return fig
