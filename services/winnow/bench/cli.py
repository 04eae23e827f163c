"""``winnow bench e2e|store|dedup|growth|scorer``.

Each command prints Winnow's figures beside a ceiling measured in the same run, with the ratio
and the goal. ``--append-docs`` also appends a section (command, machine, commit, date, load
average, tables) to ``docs/benchmarks.md`` and writes ``docs/img/bench-<name>.png``; without
it nothing is written, so trying a command never edits the docs. Databases are scratch ones,
created on the server named by ``--admin-url`` and dropped afterwards.
"""

from __future__ import annotations

import importlib.util
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from winnow.cli.datasets import datasets_dir
from winnow.settings import get_settings
from winnow.testing.fixtures import DEFAULT_ADMIN_URL

if TYPE_CHECKING:
    from winnow.bench.report import BenchResult

bench_app = typer.Typer(
    help="Benchmarks: Winnow's figure beside a ceiling measured in the same run.",
    no_args_is_help=True,
)

DEFAULT_DOCS = Path("docs/benchmarks.md")


def _plotting_available(append_docs: bool) -> bool:
    # Checked before a run of minutes, not when its plot is drawn at the end.
    if append_docs and importlib.util.find_spec("matplotlib") is None:
        raise typer.BadParameter("the plots need matplotlib: pip install -e '.[bench]'")
    return append_docs


AppendDocs = Annotated[
    bool,
    typer.Option(
        "--append-docs/--no-append-docs",
        help="Append the results to --docs and write its PNG plot (default: print only).",
        callback=_plotting_available,
    ),
]
Docs = Annotated[Path, typer.Option(help="The benchmarks page to append to.")]
AdminUrl = Annotated[
    str, typer.Option(help="PostgreSQL server on which a scratch database is created.")
]
Seed = Annotated[int, typer.Option(help="Seed of the text sampling and edits.")]

Tick = Callable[[int], None]


def _ints(csv: str) -> list[int]:
    return [int(s.replace("_", "")) for s in csv.split(",") if s.strip()]


def _command(ctx: typer.Context) -> str:
    """The command as typed, options left at their defaults omitted (for the docs section)."""
    parts = ["winnow", "bench", ctx.command.name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.name in ("append_docs", "docs") or value == param.default:
            continue
        flag = param.opts[0] if param.opts else f"--{param.name}"
        parts += [flag, shlex.quote(str(value))]
    return " ".join(parts)


@contextmanager
def _progress() -> Iterator[Callable[[str, int], Tick]]:
    """A rich progress display; each call adds a task and returns its advance callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    if not sys.stderr.isatty():
        # Redirected to a log: a plain line per tenth done, as rich draws only at the end there.
        started = time.monotonic()

        def plain(label: str, total: int) -> Tick:
            done = [0, 0]

            def advance(n: int) -> None:
                done[0] += n
                tenth = done[0] * 10 // max(total, 1)
                if tenth > done[1]:
                    done[1] = tenth
                    elapsed = time.monotonic() - started
                    print(f"{label}: {done[0]:,}/{total:,} at {elapsed:.0f} s", file=sys.stderr)

            return advance

        yield plain
        return
    with Progress(*columns, transient=False) as bar:

        def task(label: str, total: int) -> Tick:
            task_id = bar.add_task(label, total=total)
            return lambda n: bar.advance(task_id, n)

        yield task


@contextmanager
def _scratch_database(admin_url: str) -> Iterator[str]:
    from winnow.testing.fixtures import fresh_postgres_database

    with fresh_postgres_database(admin_url) as url:
        yield url


def _finish(result: BenchResult, append_docs: bool, docs: Path) -> None:
    from winnow.bench.report import append_to_docs, print_result

    print_result(result)
    if append_docs:
        written = append_to_docs(result, docs)
        typer.echo(f"appended to {docs}; plot {written}")


def _setup() -> None:
    from winnow.agents.supervisor import stop_on_signals
    from winnow.log import configure_logging

    configure_logging(get_settings())
    # SIGTERM (a timeout, Ctrl-C in a pipeline) unwinds the context managers: scratch
    # databases are dropped and child processes stopped.
    stop_on_signals()


@bench_app.command("e2e")
def bench_e2e(
    ctx: typer.Context,
    events: Annotated[int, typer.Option(help="Events pre-loaded for the drain.")] = 2000,
    latency_events: Annotated[int, typer.Option(help="Events paced at half the rate.")] = 600,
    batch: Annotated[int, typer.Option(help="Batch size of every agent and the ceiling.")] = 256,
    threads: Annotated[int, typer.Option(help="ORT intra-op threads (0: all cores).")] = 2,
    partitions: Annotated[int, typer.Option(help="Partitions per topic.")] = 4,
    timeout_s: Annotated[float, typer.Option(help="Longest wait for the store.")] = 900.0,
    admin_url: AdminUrl = DEFAULT_ADMIN_URL,
    seed: Seed = 0,
    append_docs: AppendDocs = False,
    docs: Docs = DEFAULT_DOCS,
) -> None:
    """Broker -> store throughput vs the scorer alone; latency p50/p95/p99 at half that rate."""
    _setup()
    from winnow.bench import e2e

    with (
        _scratch_database(admin_url) as url,
        tempfile.TemporaryDirectory() as tmp,
        _progress() as p,
    ):
        settings = get_settings().model_copy(
            update={
                "database_url": url,
                "data_dir": Path(tmp),
                "batch_max": batch,
                "ort_intra_op_threads": threads,
                "ort_providers": ["CPUExecutionProvider"],
                "topic_partitions": partitions,
            }
        )
        result = e2e.run(
            settings,
            events=events,
            latency_events=latency_events,
            seed=seed,
            log_dir=Path(tmp) / "logs",
            timeout_s=timeout_s,
            command=_command(ctx),
            progress=p,
        )
    _finish(result, append_docs, docs)


@bench_app.command("store")
def bench_store(
    ctx: typer.Context,
    rows: Annotated[int, typer.Option(help="Rows written per path and batch size.")] = 20000,
    batch_sizes: Annotated[str, typer.Option(help="Comma-separated batch sizes.")] = "64,256,1024",
    rejected_fraction: Annotated[float, typer.Option(help="Share of rejected rows.")] = 0.2,
    repeat: Annotated[int, typer.Option(help="Runs per path; the fastest counts.")] = 2,
    admin_url: AdminUrl = DEFAULT_ADMIN_URL,
    seed: Seed = 0,
    append_docs: AppendDocs = False,
    docs: Docs = DEFAULT_DOCS,
) -> None:
    """ExampleStore appends to PostgreSQL vs a raw COPY of the same rows, by batch size."""
    _setup()
    from winnow.bench import store

    with _scratch_database(admin_url) as url, _progress() as p:
        result = store.run(
            url,
            rows=rows,
            batch_sizes=_ints(batch_sizes),
            rejected_fraction=rejected_fraction,
            repeat=repeat,
            seed=seed,
            command=_command(ctx),
            progress=p,
        )
    _finish(result, append_docs, docs)


@bench_app.command("dedup")
def bench_dedup(
    ctx: typer.Context,
    sizes: Annotated[str, typer.Option(help="Indexed examples, comma-separated.")] = (
        "100000,1000000"
    ),
    planted: Annotated[int, typer.Option(help="Edited copies of indexed texts.")] = 2000,
    heldout: Annotated[int, typer.Option(help="New texts checked for false positives.")] = 2000,
    sample: Annotated[int, typer.Option(help="Queries given a brute-force exact scan.")] = 200,
    threshold: Annotated[float, typer.Option(help="Near-duplicate Jaccard threshold.")] = 0.75,
    peer_sizes: Annotated[
        str, typer.Option(help="Sizes at which rensa and datasketch run too ('': none).")
    ] = "100000",
    seed: Seed = 0,
    append_docs: AppendDocs = False,
    docs: Docs = DEFAULT_DOCS,
) -> None:
    """Dedup index memory per example and recall/precision at each size, vs exact search and
    vs peers (rensa, datasketch: the `bench` extra)."""
    missing = [m for m in ("rensa", "datasketch") if importlib.util.find_spec(m) is None]
    if peer_sizes and missing:
        typer.echo(
            f"{' and '.join(missing)} not installed: pip install -e '.[bench]',"
            " or pass --peer-sizes '' to skip the peer comparison",
            err=True,
        )
        raise typer.Exit(2)
    _setup()
    from winnow.bench import dedup, dedup_peers

    with _progress() as p:
        result = dedup.run(
            _ints(sizes),
            planted=planted,
            heldout=heldout,
            sample=sample,
            seed=seed,
            threshold=threshold,
            command=_command(ctx),
            progress=p,
        )
        peers = [
            dedup_peers.compare(
                n, planted=planted, heldout=heldout, seed=seed, threshold=threshold, progress=p
            )
            for n in (_ints(peer_sizes) if peer_sizes else [])
        ]
        if peers:
            dedup_peers.extend(result, peers)
    _finish(result, append_docs, docs)


@bench_app.command("growth")
def bench_growth(
    ctx: typer.Context,
    sizes: Annotated[str, typer.Option(help="Stored examples, comma-separated.")] = (
        "10000,100000,1000000"
    ),
    probe: Annotated[int, typer.Option(help="Examples curated and written at each size.")] = 2048,
    batch: Annotated[int, typer.Option(help="Curator batch size.")] = 256,
    repeat: Annotated[int, typer.Option(help="Probe runs per size; the fastest counts.")] = 3,
    keep_db: Annotated[
        str | None,
        typer.Option(
            help="Keep one seeded database per size, NAME_<size>, and reuse them in later runs"
            " (seeded only with the rows they lack) instead of a scratch database."
        ),
    ] = None,
    admin_url: AdminUrl = DEFAULT_ADMIN_URL,
    seed: Seed = 0,
    append_docs: AppendDocs = False,
    docs: Docs = DEFAULT_DOCS,
) -> None:
    """Curate + write throughput, memory and index rebuild time at each stored size."""
    _setup()
    from winnow.bench import growth

    kept = growth.KeptStores(admin_url, f"{keep_db}_seed{seed}") if keep_db else None
    with ExitStack() as stack:
        url = admin_url if kept else stack.enter_context(_scratch_database(admin_url))
        result = growth.run(
            url,
            sizes=_ints(sizes),
            probe=probe,
            batch=batch,
            seed=seed,
            command=_command(ctx),
            repeat=repeat,
            progress=stack.enter_context(_progress()),
            kept=kept,
        )
    _finish(result, append_docs, docs)


@bench_app.command("replicas")
def bench_replicas(
    ctx: typer.Context,
    replicas: Annotated[
        str, typer.Option(help="Replica counts with the shared index, comma-separated.")
    ] = "1,2",
    examples: Annotated[
        int, typer.Option(help="Examples of one tenant, split between them.")
    ] = 4096,
    batch: Annotated[int, typer.Option(help="Curator batch size.")] = 256,
    repeat: Annotated[int, typer.Option(help="Runs per configuration; the fastest counts.")] = 3,
    admin_url: AdminUrl = DEFAULT_ADMIN_URL,
    seed: Seed = 0,
    append_docs: AppendDocs = False,
    docs: Docs = DEFAULT_DOCS,
) -> None:
    """Curator replicas on one tenant with the shared duplicate index: throughput, CPU/example."""
    _setup()
    from winnow.bench import replicas as bench

    with _scratch_database(admin_url) as url:
        result = bench.run(
            url,
            replicas=_ints(replicas),
            examples=examples,
            batch=batch,
            seed=seed,
            command=_command(ctx),
            repeat=repeat,
        )
    _finish(result, append_docs, docs)


class Provider(StrEnum):
    """Where the benchmark runs."""

    cpu = "cpu"
    cuda = "cuda"


class RewardModel(StrEnum):
    """Reward models the scorer can run."""

    cross = "cross"
    head = "head"


@bench_app.command("scorer")
def bench_scorer(
    provider: Annotated[Provider, typer.Option(help="cpu: int8; cuda: fp16.")] = Provider.cpu,
    examples: Annotated[int, typer.Option(help="Examples (question + answer) per run.")] = 512,
    batch_sizes: Annotated[str, typer.Option(help="Comma-separated batch sizes.")] = "1,8,32,128",
    threads: Annotated[int, typer.Option(help="ORT intra-op threads (0: all cores).")] = 2,
    repeat: Annotated[int, typer.Option(help="Timed repetitions per measurement.")] = 2,
    data_root: Annotated[
        Path | None,
        typer.Option(help="Shared datasets (texts to score; default WINNOW_DATASETS_DIR)."),
    ] = None,
    reward_model: Annotated[
        RewardModel | None,
        typer.Option(help="Reward model the scorer runs (default: WINNOW_REWARD_MODEL)."),
    ] = None,
) -> None:
    """Scorer vs bare ORT on the same texts, by batch size; embedder rate by length bucket."""
    from winnow.bench import scorer as bench
    from winnow.log import configure_logging
    from winnow.scoring import QualityScorer

    # Logging only (not _setup): a scorer run holds no scratch database or child to unwind.
    configure_logging(get_settings())
    folder = datasets_dir(data_root)
    base = get_settings()
    providers = (
        ["CUDAExecutionProvider", "CPUExecutionProvider"]
        if provider is Provider.cuda
        else ["CPUExecutionProvider"]
    )
    update: dict[str, object] = {"ort_providers": providers, "ort_intra_op_threads": threads}
    if reward_model is not None:
        update["reward_model"] = reward_model.value
    settings = base.model_copy(update=update)
    scorer = QualityScorer.from_settings(settings)
    pairs = bench.load_pairs(folder, examples)
    sizes = [int(s) for s in batch_sizes.split(",") if s.strip()]
    typer.echo(
        f"# winnow bench scorer --provider {provider.value} --examples {examples} "
        f"--batch-sizes {batch_sizes} --threads {threads} --reward-model {settings.reward_model}"
    )
    emb = scorer.embedder
    typer.echo(
        f"# machine: {bench.machine()}; embedder {emb.version} on {emb.providers[0]}; "
        f"reward {scorer.model_versions['reward']}"
    )
    typer.echo(
        "| batch | scorer ex/s | bare ORT ex/s | ratio | bare ORT, same buckets ex/s | ratio |"
    )
    typer.echo("|---|---|---|---|---|---|")
    for size in sizes:
        s, b, bb = bench.compare(scorer, pairs, size, repeat)
        typer.echo(
            f"| {size} | {s.per_second:,.1f} | {b.per_second:,.1f} | "
            f"{s.per_second / b.per_second:.2f} | {bb.per_second:,.1f} | "
            f"{s.per_second / bb.per_second:.2f} |"
        )
    texts = [t for pair in pairs for t in pair]
    typer.echo("\n| batch | length bucket | sentences/s |")
    typer.echo("|---|---|---|")
    for size in sizes:
        for rate in bench.by_bucket(scorer, texts, size, repeat):
            typer.echo(f"| {size} | {rate.label} | {rate.per_second:,.1f} |")


@bench_app.command("tickets")
def bench_tickets(
    events: Annotated[int, typer.Option(help="Ticket events per shape.")] = 512,
    batch: Annotated[int, typer.Option(help="Examples per scoring batch.")] = 256,
    threads: Annotated[int, typer.Option(help="ORT intra-op threads (0: all cores).")] = 2,
) -> None:
    """Scoring throughput of multi-turn tickets vs single exchanges, and turns judged per event."""
    from winnow.bench import tickets
    from winnow.log import configure_logging
    from winnow.scoring import QualityScorer

    configure_logging(get_settings())
    settings = get_settings().model_copy(
        update={"ort_providers": ["CPUExecutionProvider"], "ort_intra_op_threads": threads}
    )
    scorer = QualityScorer.from_settings(settings)
    typer.echo(f"# winnow bench tickets --events {events} --batch {batch} --threads {threads}")
    typer.echo("| tickets | events/s | turns judged per event | messages per event |")
    typer.echo("|---|---|---|---|")
    for shape, fraction in (("single exchange", 0.0), ("multi-turn", 1.0)):
        rate = tickets.measure(scorer, shape, tickets.ticket_examples(events, fraction), batch)
        typer.echo(
            f"| {shape} | {rate.per_second:,.1f} | {rate.turns_judged / rate.events:.2f} | "
            f"{rate.turns / rate.events:.1f} |"
        )
