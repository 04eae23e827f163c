"""Retrain triggers: snapshot a domain once it has gained enough new curated data.

Per (tenant, domain), "new" means stored after the watermark of the domain's last retrain
snapshot (the newest ``stored_at`` it read). A domain is due when its new examples reach
``retrain_min_examples`` or their tokens reach ``retrain_min_tokens`` (per-domain overrides in
``retrain_domain_thresholds``; 0 turns a criterion off). A due domain is exported in full to
``<snapshot_url>/<tenant>/<domain>/<snapshot id>/`` (any fsspec URL; ``snapshot_dir`` when no
URL is set: see :mod:`winnow.export.storage`), recorded as a ``retrain`` snapshot, and a
``RetrainEvent`` naming it is returned for the caller to produce on the retrain topic, keyed by
domain. Kafka-free: the curator calls :meth:`RetrainTrigger.check` on a timer.

Tokens here are those of every text of the new examples (format-independent). A curator
transaction that stamped ``stored_at`` before a snapshot read but committed after it is not
counted as new (it is in the next snapshot all the same): an undercount of milliseconds' worth.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from winnow.events import RetrainEvent, RetrainReason
from winnow.export import storage
from winnow.export.exporter import (
    ExportResult,
    export_snapshot,
    folder_name,
    options_from,
    record,
)
from winnow.export.formats import ExportFormat
from winnow.export.storage import join
from winnow.export.tokens import TokenCounter, example_tokens, token_counter
from winnow.settings import Settings
from winnow.store.queries import (
    ExampleQuery,
    count_examples,
    domain_counts,
    iter_examples,
    last_retrain_snapshot,
)
from winnow.store.store import ExampleStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DomainStats:
    """What one tenant's domain gained since its last retrain snapshot."""

    tenant: str
    domain: str
    new_examples: int
    new_tokens: int
    since: datetime | None
    """The last snapshot's watermark; None when the domain has never been snapshotted."""


@dataclass(frozen=True)
class Due:
    """A domain due for retraining, and the threshold it crossed."""

    stats: DomainStats
    reason: RetrainReason


def thresholds(domain: str, settings: Settings) -> tuple[int, int]:
    """``(min_examples, min_tokens)`` for ``domain``: its override, else the global settings."""
    override = settings.retrain_domain_thresholds.get(domain)
    min_examples = settings.retrain_min_examples
    min_tokens = settings.retrain_min_tokens
    if override is not None:
        if override.min_examples is not None:
            min_examples = override.min_examples
        if override.min_tokens is not None:
            min_tokens = override.min_tokens
    return min_examples, min_tokens


def due_domains(stats: Iterable[DomainStats], settings: Settings) -> list[Due]:
    """The domains whose gains reach a threshold (examples checked before tokens)."""
    due: list[Due] = []
    for s in stats:
        if s.new_examples == 0:
            continue
        min_examples, min_tokens = thresholds(s.domain, settings)
        if min_examples and s.new_examples >= min_examples:
            due.append(Due(s, RetrainReason.MIN_EXAMPLES))
        elif min_tokens and s.new_tokens >= min_tokens:
            due.append(Due(s, RetrainReason.MIN_TOKENS))
    return due


def retrain_event_id(tenant: str, domain: str, snapshot_id: str) -> str:
    """Id of a retrain event: one per (tenant, domain, snapshot)."""
    return hashlib.sha256(f"{tenant}|{domain}|{snapshot_id}".encode()).hexdigest()


class RetrainTrigger:
    """Finds due domains in the store, snapshots them and returns the events to produce."""

    def __init__(
        self, store: ExampleStore, settings: Settings, *, counter: TokenCounter | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.format = ExportFormat(settings.snapshot_format)
        self.counter = counter or token_counter(settings.models_dir, settings.export_tokenizer)
        # Tokens of examples already counted, per (tenant, domain), until the next snapshot.
        self._tokens: dict[tuple[str, str], dict[str, int]] = {}

    def stats(self) -> list[DomainStats]:
        """Gains of every (tenant, domain) since its last retrain snapshot."""
        out: list[DomainStats] = []
        for dc in domain_counts(self.store):
            last = last_retrain_snapshot(self.store, dc.tenant, dc.domain)
            since = last.watermark if last is not None else None
            if since is not None and dc.last_stored_at <= since:
                out.append(DomainStats(dc.tenant, dc.domain, 0, 0, since))
                continue
            new = count_examples(self.store, dc.tenant, dc.domain, after=since)
            tokens = self._new_tokens(dc.tenant, dc.domain, since)
            out.append(DomainStats(dc.tenant, dc.domain, new, tokens, since))
        return out

    def _new_tokens(self, tenant: str, domain: str, since: datetime | None) -> int:
        cache = self._tokens.setdefault((tenant, domain), {})
        total = 0
        for stored in iter_examples(self.store, ExampleQuery(tenant, domain), after=since):
            n = cache.get(stored.example.id)
            if n is None:
                n = cache[stored.example.id] = example_tokens(self.counter, stored.example)
            total += n
        return total

    def check(self) -> list[RetrainEvent]:
        """Snapshot every due domain; one event per snapshot taken."""
        return [self.snapshot(due) for due in due_domains(self.stats(), self.settings)]

    def snapshot(self, due: Due) -> RetrainEvent:
        """Export one due domain in full, record it and describe it in a ``RetrainEvent``."""
        s = due.stats
        url = join(self.settings.snapshot_root, folder_name(s.tenant), folder_name(s.domain))
        storage_options = self.settings.snapshot_storage_options
        with tempfile.TemporaryDirectory(prefix="winnow-snapshot-") as tmp:
            staging = Path(tmp) / "snapshot"
            result = export_snapshot(
                self.store,
                ExampleQuery(s.tenant, s.domain),
                self.format,
                staging,
                counter=self.counter,
                options=options_from(self.settings),
            )
            final = join(url, result.snapshot_id)
            # Content-addressed: a snapshot already there (manifest and all) is the same bytes.
            if not storage.exists(final, storage_options):
                storage.publish(staging, final, storage_options)
        result = ExportResult(staging, result.manifest, result.watermark, url=final)
        record(self.store, result, "retrain")
        self._tokens.pop((s.tenant, s.domain), None)
        event = RetrainEvent(
            id=retrain_event_id(s.tenant, s.domain, result.snapshot_id),
            tenant=s.tenant,
            domain=s.domain,
            snapshot_id=result.snapshot_id,
            path=final,
            format=self.format.value,
            counts=result.manifest["counts"]["by_kind"],
            tokens=result.tokens,
            new_examples=s.new_examples,
            new_tokens=s.new_tokens,
            reason=due.reason,
            created_at=datetime.now(UTC),
        )
        log.info(
            "retrain_snapshot",
            tenant=s.tenant,
            domain=s.domain,
            snapshot_id=result.snapshot_id,
            reason=due.reason.value,
            new_examples=s.new_examples,
            new_tokens=s.new_tokens,
        )
        return event
