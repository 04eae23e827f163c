"""One line, never a traceback: how commands report the errors Winnow raises on purpose."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from winnow.errors import WinnowError


@contextlib.contextmanager
def exit_on_error() -> Iterator[None]:
    """Print a :class:`WinnowError` as one line on stderr and exit 1."""
    try:
        yield
    except WinnowError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
