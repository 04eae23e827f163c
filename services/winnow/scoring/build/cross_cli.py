"""``winnow models train reward-cross``: the command body (kept out of the CLI module)."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import typer

from winnow.settings import get_settings


def train_cross(
    data_root: Path,
    device: str,
    max_minutes: float | None,
    from_store: str | None,
    tenant: str,
    run: Path | None,
    force: bool,
) -> None:
    """Build pairs, train (or take ``run``), export, replace ``models/reward`` if better."""
    from winnow.scoring.build.export import weights_dir
    from winnow.scoring.build.reward_job import CrossJob, run_job

    if device not in ("auto", "cpu", "cuda"):
        raise typer.BadParameter("--device must be auto, cpu or cuda")
    if run is not None and not (run / "config.json").is_file():
        raise typer.BadParameter(f"{run} is not a training run: it has no config.json")
    if not data_root.is_dir():
        raise typer.BadParameter(f"{data_root} does not exist: pass --data-root")
    settings = get_settings()
    started = time.monotonic()
    job = CrossJob(
        data_root=data_root,
        models_dir=Path(settings.models_dir),
        work_dir=Path(settings.data_dir) / "cache" / "reward-cross",
        base=weights_dir(),
        device=device,
        max_minutes=max_minutes,
        run=run,
        store_url=from_store,
        tenant=tenant,
        force=force,
        command="winnow " + shlex.join(sys.argv[1:]),
    )

    def log(message: str) -> None:
        typer.echo(f"[{time.monotonic() - started:6.0f}s] {message}", err=True)

    result = run_job(job, log)
    summary = {k: v for k, v in result.items() if not isinstance(v, dict | list)}
    typer.echo(json.dumps(summary, indent=2))
