"""Quality-model commands: ``winnow models build|train``.

Heavy imports (onnxruntime, torch, numpy-heavy training) happen inside the commands.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from winnow.cli.datasets import datasets_dir
from winnow.settings import get_settings

models_app = typer.Typer(
    help="Build the embedder and train the quality heads.", no_args_is_help=True
)


class HeadName(StrEnum):
    """Trainable heads."""

    router = "router"
    reward = "reward"


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
        Path | None,
        typer.Option(
            help="Folder of the shared datasets (read in place; default WINNOW_DATASETS_DIR)."
        ),
    ] = None,
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
        data_root=datasets_dir(data_root),
        cache_dir=Path(settings.data_dir) / "cache",
        out_dir=out_dir,
    )
    metrics = train_router(ctx, data) if head is HeadName.router else train_reward(ctx)
    summary = {k: v for k, v in metrics.items() if not isinstance(v, dict | list)}
    typer.echo(json.dumps(summary, indent=2))
