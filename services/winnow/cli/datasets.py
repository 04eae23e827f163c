"""Where the commands that read the public datasets (training, benchmarks) find them.

The folder is never guessed from the machine's layout: ``--data-root`` or the
``WINNOW_DATASETS_DIR`` setting names it.
"""

from __future__ import annotations

from pathlib import Path

import typer

from winnow.settings import get_settings


def datasets_dir(data_root: Path | None) -> Path:
    """``data_root`` when given, else the ``datasets_dir`` setting; neither: exit 1 with a line."""
    folder = data_root if data_root is not None else get_settings().datasets_dir
    if folder is None:
        typer.echo(
            "no datasets folder: pass --data-root or set WINNOW_DATASETS_DIR to the folder of "
            "the public datasets (Bitext, CLINC150, HH-RLHF, QA-Feedback: each subfolder's "
            "SOURCE.md names where it was downloaded from)",
            err=True,
        )
        raise typer.Exit(1)
    return folder
