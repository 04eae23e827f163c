"""Settings of duplicate detection across curator replicas.

A base class of :class:`winnow.settings.Settings` (which adds the ``WINNOW_`` prefix), kept apart
so each module stays under the size limit; read them as ``Settings().dedup_shared``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings


class DedupSettings(BaseSettings):
    """Whether curator replicas share one duplicate index through PostgreSQL."""

    dedup_shared: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Shared duplicate index across curator replicas (docs/dedup-replicas.md): "
        "advisory locks on each batch's LSH band and exact keys plus a catch-up read of the "
        "other replicas' rows, so one tenant's examples can spread over every replica (the "
        "scored topic is then keyed by example id instead of tenant). `auto` is on when the "
        "store is PostgreSQL; `on` needs PostgreSQL; `off` keeps one replica per tenant. Every "
        "service must agree: set it explicitly where the scorer has no database URL.",
    )

    def dedup_shared_on(self, database_url: str) -> bool:
        """Whether the shared index is on for a store at ``database_url`` (the curator refuses
        ``on`` without PostgreSQL; the scorer only keys its output by it)."""
        postgres = database_url.startswith("postgresql")
        return self.dedup_shared == "on" or (self.dedup_shared == "auto" and postgres)
