"""Deployable services: thin faust adapters that move records between topics and ``winnow.stages``.

Each module builds one faust app (one consumer group) and is started with ``winnow serve <name>``.
"""

SERVICES = ("validator", "scorer", "curator")
