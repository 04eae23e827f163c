"""Errors of the export package."""

from __future__ import annotations

from winnow.errors import WinnowError


class ExportError(WinnowError):
    """An export could not be written (a bad destination, an unknown format...)."""
