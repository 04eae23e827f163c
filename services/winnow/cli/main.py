"""The ``winnow`` command line: one entry point for services, tools and the demo.

Sub-command groups owned by other modules are mounted here with ``app.add_typer``; heavy imports
(faust, onnxruntime, torch) stay inside the commands so ``winnow --help`` is instant.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="winnow",
    help="Winnow: a streaming data flywheel from support and feedback events to training data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point."""
    app()


# Registration by import: these modules add their commands to ``app``.
from winnow.bench.cli import bench_app  # noqa: E402
from winnow.cli import commands as cli_commands  # noqa: E402,F401
from winnow.scoring.build.cli import models_app, score  # noqa: E402  (adds `bench scorer`)

app.add_typer(models_app, name="models")
app.add_typer(bench_app, name="bench")
app.command("score")(score)
from winnow.export.cli import export  # noqa: E402
from winnow.gateway.cli import gateway_app, keys_app  # noqa: E402
from winnow.monitor.cli import alerts, report  # noqa: E402
from winnow.pii.corpus import pii_app  # noqa: E402

app.command("export")(export)
app.command("alerts")(alerts)
app.command("report")(report)
app.add_typer(keys_app, name="keys")
app.add_typer(gateway_app, name="gateway")

app.add_typer(pii_app, name="pii")
