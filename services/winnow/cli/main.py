"""The ``winnow`` command line: one entry point for services, tools and the demo.

Every command and group is mounted here, in the order ``winnow --help`` lists them; the modules
that define them only define them. Heavy imports (faust, onnxruntime, torch) stay inside the
commands so ``winnow --help`` is instant.
"""

from __future__ import annotations

import typer

from winnow.bench.cli import bench_app
from winnow.cli.admin import db_app, schemas_app, settings_app, topics_app
from winnow.cli.ingest import generate, ingest
from winnow.cli.pipeline import broker, demo, serve, up
from winnow.cli.status import status
from winnow.export.cli import export
from winnow.export.snapshots_cli import snapshots_app
from winnow.gateway.cli import gateway_app, keys_app
from winnow.monitor.cli import alerts, report
from winnow.pii.cli import pii_app
from winnow.scoring.build.cli import models_app
from winnow.scoring.cli import score
from winnow.store.dlq_cli import dlq_app
from winnow.store.erase import erase_command

app = typer.Typer(
    name="winnow",
    help="Winnow: a streaming data flywheel from support and feedback events to training data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.command("serve")(serve)
app.command("broker")(broker)
app.command("up")(up)
app.command("demo")(demo)
app.command("generate")(generate)
app.command("ingest")(ingest)
app.command("status")(status)
app.command("score")(score)
app.command("export")(export)
app.command("alerts")(alerts)
app.command("report")(report)
app.command("erase")(erase_command)
app.add_typer(db_app, name="db")
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
app.add_typer(schemas_app, name="schemas")
app.add_typer(settings_app, name="settings")
app.add_typer(models_app, name="models")
app.add_typer(bench_app, name="bench")
app.add_typer(keys_app, name="keys")
app.add_typer(gateway_app, name="gateway")
app.add_typer(pii_app, name="pii")
app.add_typer(snapshots_app, name="snapshots")


def main() -> None:
    """Console-script entry point."""
    app()
