"""Quality-model commands: ``winnow models build|train``, ``winnow score``, ``winnow bench``.

Heavy imports (onnxruntime, torch, numpy-heavy training) happen inside the commands.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from winnow.bench.cli import bench_app
from winnow.settings import get_settings

models_app = typer.Typer(
    help="Build the embedder and train the quality heads.", no_args_is_help=True
)

DEFAULT_DATA_ROOT = Path("../shared/data")


class HeadName(StrEnum):
    """Trainable heads."""

    router = "router"
    reward = "reward"


class Provider(StrEnum):
    """Where the benchmark runs."""

    cpu = "cpu"
    cuda = "cuda"


def _setup() -> None:
    from winnow.log import configure_logging

    configure_logging(get_settings())


@models_app.command("build")
def build(
    force: Annotated[bool, typer.Option(help="Rebuild even when the manifest matches.")] = False,
) -> None:
    """Export MiniLM to ONNX (fp32, fp16, int8), check agreement, write the manifest."""
    _setup()
    from winnow.scoring.build.build import build_embedder

    settings = get_settings()
    manifest = build_embedder(
        Path(settings.models_dir), max_tokens=settings.max_tokens, force=force
    )
    for name, agreement in manifest.agreement.items():
        typer.echo(
            f"{name:5s} cosine to PyTorch: mean {agreement.mean:.5f} min {agreement.min:.5f}"
        )
    typer.echo(f"embedder ready in {Path(settings.models_dir) / 'embedder'}")


@models_app.command("train")
def train(
    head: Annotated[HeadName, typer.Argument(help="The head to train.")],
    data: Annotated[
        Path | None, typer.Option(help="Router only: a text,label CSV with your own taxonomy.")
    ] = None,
    data_root: Annotated[
        Path, typer.Option(help="Folder of the shared datasets (read in place).")
    ] = DEFAULT_DATA_ROOT,
    out_dir: Annotated[
        Path | None, typer.Option(help="Write the head and card here instead of models/heads.")
    ] = None,
) -> None:
    """Train a head on MiniLM embeddings and write ``<head>.onnx`` with its model card."""
    _setup()
    from winnow.scoring.build.train import TrainContext, train_reward, train_router

    settings = get_settings()
    if data is not None and head is not HeadName.router:
        raise typer.BadParameter("--data applies to the router only")
    ctx = TrainContext(
        models_dir=Path(settings.models_dir),
        data_root=data_root,
        cache_dir=Path(settings.data_dir) / "cache",
        out_dir=out_dir,
    )
    metrics = train_router(ctx, data) if head is HeadName.router else train_reward(ctx)
    summary = {k: v for k, v in metrics.items() if not isinstance(v, dict | list)}
    typer.echo(json.dumps(summary, indent=2))


def score(
    input: Annotated[Path, typer.Option("--input", help="JSONL of source events.")],
    output: Annotated[Path, typer.Option("--output", help="JSONL of scored examples.")],
    batch: Annotated[
        int | None, typer.Option(help="Examples per batch (default WINNOW_BATCH_MAX).")
    ] = None,
) -> None:
    """Score source events offline: one scored candidate example per line."""
    _setup()
    from tqdm import tqdm

    from winnow.scoring.build.offline import OfflineStats, count_lines, examples_from_lines, score_stream
    from winnow.scoring import QualityScorer

    settings = get_settings()
    scorer = QualityScorer.from_settings(settings)
    stats = OfflineStats()
    output.parent.mkdir(parents=True, exist_ok=True)
    with input.open("rb") as src, output.open("w", encoding="utf-8") as out:
        lines = tqdm(src, total=count_lines(input), unit="event", file=sys.stderr)
        examples = examples_from_lines(lines, input.name, settings.max_event_bytes, stats)
        score_stream(examples, scorer, out, batch or settings.batch_max, stats)
    typer.echo(
        f"{stats.events} events -> {stats.examples} scored examples in {output}"
        + (f"; dead letters: {stats.dead_letters}" if stats.dead_letters else ""),
        err=True,
    )


@bench_app.command("scorer")
def bench_scorer(
    provider: Annotated[Provider, typer.Option(help="cpu: int8; cuda: fp16.")] = Provider.cpu,
    examples: Annotated[int, typer.Option(help="Examples (question + answer) per run.")] = 512,
    batch_sizes: Annotated[str, typer.Option(help="Comma-separated batch sizes.")] = "1,8,32,128",
    threads: Annotated[int, typer.Option(help="ORT intra-op threads (0: all cores).")] = 2,
    repeat: Annotated[int, typer.Option(help="Timed repetitions per measurement.")] = 2,
    data_root: Annotated[
        Path, typer.Option(help="Shared datasets (texts to score).")
    ] = DEFAULT_DATA_ROOT,
) -> None:
    """Scorer vs bare ORT on the same texts, by batch size; embedder rate by length bucket."""
    _setup()
    from winnow.bench import scorer as bench
    from winnow.scoring import QualityScorer

    base = get_settings()
    providers = (
        ["CUDAExecutionProvider", "CPUExecutionProvider"]
        if provider is Provider.cuda
        else ["CPUExecutionProvider"]
    )
    settings = base.model_copy(update={"ort_providers": providers, "ort_intra_op_threads": threads})
    scorer = QualityScorer.from_settings(settings)
    pairs = bench.load_pairs(data_root, examples)
    sizes = [int(s) for s in batch_sizes.split(",") if s.strip()]
    typer.echo(
        f"# winnow bench scorer --provider {provider.value} --examples {examples} "
        f"--batch-sizes {batch_sizes} --threads {threads}"
    )
    emb = scorer.embedder
    typer.echo(f"# machine: {bench.machine()}; embedder {emb.version} on {emb.providers[0]}")
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
