"""Deployable services: thin faust adapters that move records between topics and ``winnow.stages``.

Each module builds one faust app (one consumer group) and is started with ``winnow serve <name>``.
"""

PIPELINE = ("validator", "scorer", "curator")
"""The services every record passes through, in order."""

SERVICES = (*PIPELINE, "monitor")
"""What ``winnow up`` and ``winnow demo`` run: the pipeline and the data-quality monitor (whose
readiness waits for the Great Expectations import, a few seconds). The gateway stays apart: it
needs API keys and is started with ``winnow serve gateway``."""
