"""Curation filters that fail on purpose, for the fault tests.

The services under test load them through ``WINNOW_CURATE_EXTRA_FILTERS``, the way a user plugs
in their own filter: ``fault_filters:MarkerFilter`` with this folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
from pathlib import Path

from winnow.example import Example
from winnow.reasons import DropReason
from winnow.stages.filters.base import ExampleFilter

POISON_MARKER = "Zqxpoisonmarker"
"""An answer holding this makes the filter raise an ordinary exception (a poison example)."""
CRASH_MARKER = "Zqxcrashmarker"
"""An answer holding this kills the agent while the file named by ``CRASH_FLAG_ENV`` exists."""
CRASH_FLAG_ENV = "WINNOW_TEST_CRASH_FLAG"


class PoisonError(RuntimeError):
    """A filter bug that one odd example triggers."""


class AgentKiller(BaseException):
    """Escapes every ``except Exception``: a failure that per-record handling cannot catch."""


class MarkerFilter(ExampleFilter):
    """Keeps everything, except that it raises on the marker texts."""

    def check(self, example: Example) -> DropReason | None:
        if POISON_MARKER in example.answer:
            raise PoisonError("the filter cannot handle this example")
        flag = os.environ.get(CRASH_FLAG_ENV)
        if CRASH_MARKER in example.answer and flag and Path(flag).exists():
            raise AgentKiller("the agent dies on this example while the flag file exists")
        return None
