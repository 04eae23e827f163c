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
    reward_cross = "reward-cross"


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
    tickets: Annotated[
        Path | None,
        typer.Option(
            help="Router only: JSONL of support-ticket events; those whose category "
            "WINNOW_CATEGORY_MAP maps become training texts (their issue statements)."
        ),
    ] = None,
    false_reject: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.5,
            help="Router only: share of in-scope calibration texts the threshold may send "
            "to `other`.",
        ),
    ] = 0.01,
    plot: Annotated[
        Path | None,
        typer.Option(help="Router only: write the reliability diagram (PNG) here."),
    ] = None,
    device: Annotated[str, typer.Option(help="reward-cross: auto, cpu or cuda.")] = "auto",
    max_minutes: Annotated[
        float | None,
        typer.Option(help="reward-cross: training budget (default 6 on CUDA, 30 on the CPU)."),
    ] = None,
    from_store: Annotated[
        str | None,
        typer.Option(help="reward-cross: also train on this store's preference pairs (URL)."),
    ] = None,
    tenant: Annotated[
        str, typer.Option(help="reward-cross: the store tenant to read.")
    ] = "default",
    run: Annotated[
        Path | None,
        typer.Option(help="reward-cross: export this finished run (e.g. from a GPU machine)."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="reward-cross: replace the model even if it scores lower.")
    ] = False,
) -> None:
    """Train a head (``router``, ``reward``) or the cross-encoder reward (``reward-cross``)."""
    _setup()
    from winnow.scoring.build.exceptions import TrainingDataError

    _check_options(head, cross=(from_store, run), router=(data, tickets, plot))
    try:
        if head is HeadName.reward_cross:
            from winnow.scoring.build.cross_cli import train_cross

            train_cross(
                datasets_dir(data_root), device, max_minutes, from_store, tenant, run, force
            )
            return
        metrics = _train_head(head, data, data_root, out_dir, tickets, false_reject, plot)
    except TrainingDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    summary = {k: v for k, v in metrics.items() if not isinstance(v, dict | list)}
    typer.echo(json.dumps(summary, indent=2))


def _check_options(head: HeadName, cross: tuple[object, ...], router: tuple[object, ...]) -> None:
    """Refuse options the chosen head would silently ignore."""
    if head is not HeadName.reward_cross and any(v is not None for v in cross):
        # The store's preference pairs (and fetched runs) train the cross-encoder, the default
        # reward model; silently training the embedding head without them would mislead.
        raise typer.BadParameter(
            "--from-store and --run train the cross-encoder: "
            "use `winnow models train reward-cross --from-store URL`"
        )
    if head is not HeadName.router and any(v is not None for v in router):
        raise typer.BadParameter("--data, --tickets and --plot apply to the router only")


def _train_head(
    head: HeadName,
    data: Path | None,
    data_root: Path | None,
    out_dir: Path | None,
    tickets: Path | None,
    false_reject: float,
    plot: Path | None,
) -> dict[str, object]:
    from winnow.scoring.build.train import TrainContext, train_reward, train_router

    settings = get_settings()
    ctx = TrainContext(
        models_dir=Path(settings.models_dir),
        data_root=datasets_dir(data_root),
        cache_dir=Path(settings.data_dir) / "cache",
        out_dir=out_dir,
    )
    if head is HeadName.router:
        return train_router(ctx, data, tickets, dict(settings.category_map), false_reject, plot)
    return train_reward(ctx)


@models_app.command("reward-quantiles")
def reward_quantiles(
    scored: Annotated[
        Path | None,
        typer.Option(help="JSONL of scored examples (`winnow score` or eval-tickets output)."),
    ] = None,
    from_store: Annotated[
        str | None, typer.Option(help="Read the rewards of the examples this store holds (URL).")
    ] = None,
    tenant: Annotated[str, typer.Option(help="With --from-store: the tenant.")] = "default",
    out: Annotated[
        Path | None, typer.Option(help="Where to write (default models/reward/quantiles.json).")
    ] = None,
    min_per_domain: Annotated[
        int, typer.Option(min=10, help="Fewer rewards than this: the domain uses the all table.")
    ] = 50,
) -> None:
    """Per-domain reward quantiles for WINNOW_REWARD_MIN_QUANTILE and the dashboard."""
    _setup()
    from winnow.scoring.build import reward_quantiles as rq
    from winnow.scoring.build.exceptions import TrainingDataError
    from winnow.scoring.cross import REWARD_DIR
    from winnow.scoring.quantiles import ALL, QUANTILES_FILE

    if (scored is None) == (from_store is None):
        raise typer.BadParameter("give exactly one of --scored and --from-store")
    dest = out or Path(get_settings().models_dir) / REWARD_DIR / QUANTILES_FILE
    try:
        rows = (
            rq.rows_from_scored(scored) if scored else rq.rows_from_store(str(from_store), tenant)
        )
        source = str(scored) if scored else f"store tenant {tenant}"
        table = rq.quantile_table(rows, source, min_per_domain)
    except TrainingDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(table.to_json(), encoding="utf-8")
    typer.echo(f"{dest}: reward model {table.model}, {table.counts[ALL]} rewards")
    for domain, n in sorted(table.counts.items()):
        t = table.tables[domain]
        typer.echo(f"  {domain:12s} n={n:6d}  p10 {t[10]:.3f}  p50 {t[50]:.3f}  p90 {t[90]:.3f}")


class EvalSplit(StrEnum):
    """Conversation splits of STAR/MultiDoGO (by conversation id)."""

    train = "train"
    calibration = "calibration"
    report = "report"


@models_app.command("eval-tickets")
def eval_tickets(
    split: Annotated[
        EvalSplit, typer.Option(help="Which split to evaluate on.")
    ] = EvalSplit.report,
    data_root: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the shared datasets (read in place; default WINNOW_DATASETS_DIR)."
        ),
    ] = None,
    work_dir: Annotated[
        Path, typer.Option(help="Where the events and scored examples are written.")
    ] = Path("var/eval-tickets"),
    hand_labelled: Annotated[
        Path, typer.Option(help="Hand-labelled agent turns (JSONL: text, label).")
    ] = Path("tests/fixtures/conversations/star_agent_turns.labelled.jsonl"),
) -> None:
    """Routing accuracy and small-talk detection on STAR/MultiDoGO tickets of one split.

    The tickets go through ``winnow score``'s own path (decode, normalise, ``QualityScorer``).
    """
    _setup()
    from winnow.agents.config import validate_config
    from winnow.scoring import QualityScorer
    from winnow.scoring.build import ticket_eval as te
    from winnow.scoring.offline import OfflineStats, examples_from_lines, score_stream

    settings = get_settings()
    data_root = datasets_dir(data_root)
    dialogues = list(te.labelled_dialogues(data_root, split.value))
    work_dir.mkdir(parents=True, exist_ok=True)
    events, scored = (
        work_dir / f"{split.value}.events.jsonl",
        work_dir / f"{split.value}.scored.jsonl",
    )
    truth: dict[str, str] = {}
    with events.open("w", encoding="utf-8") as f:
        for d in dialogues:
            event = te.ticket_event(d)
            truth[event["id"]] = d.category or "other"
            f.write(json.dumps(event) + "\n")
    stats = OfflineStats()
    with events.open("rb") as src, scored.open("w", encoding="utf-8") as out:
        examples = examples_from_lines(src, events.name, validate_config(settings), stats)
        score_stream(
            examples, QualityScorer.from_settings(settings), out, settings.batch_max, stats
        )
    with scored.open(encoding="utf-8") as f:
        result = te.routing_report(truth, (json.loads(line) for line in f))
    typer.echo(f"# winnow models eval-tickets --split {split.value}: {events} -> {scored}")
    typer.echo(
        f"routing: {result.tickets} tickets, accuracy {result.accuracy:.3f}; "
        f"support-category tickets routed to other: {result.support_to_other:.3f} "
        f"of {result.support_tickets}"
    )
    for source, (n, acc) in result.by_source.items():
        typer.echo(f"  {source}: {n} tickets, accuracy {acc:.3f}")
    typer.echo(f"confusion (truth -> routed): {json.dumps(result.confusion)}")
    md = te.multidogo_small_talk(data_root, split.value)
    typer.echo(
        f"small talk, MultiDoGO customer turns ({split.value}): precision {md.precision:.3f} "
        f"recall {md.recall:.3f} (tp {md.true_pos}, fp {md.false_pos}, fn {md.false_neg})"
    )
    if hand_labelled.is_file():
        small, identity = te.hand_checked_small_talk(hand_labelled)
        typer.echo(
            f"small talk, hand-checked STAR agent turns: precision {small.precision:.3f} "
            f"recall {small.recall:.3f} (tp {small.true_pos}, fp {small.false_pos}, "
            f"fn {small.false_neg}); identity checks: precision {identity.precision:.3f} "
            f"recall {identity.recall:.3f}"
        )
