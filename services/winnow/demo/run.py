"""``winnow demo``: everything up, generated events in, wait for every outcome, print a summary."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from tqdm import tqdm

from winnow.agents.supervisor import Supervisor
from winnow.demo.generator import EventGenerator
from winnow.errors import WinnowError
from winnow.kafka.produce import produce
from winnow.settings import Settings
from winnow.store.store import ExampleStore
from winnow.topics import TopicLayout


@dataclass
class DemoSummary:
    """What the demo produced and where every event ended up."""

    produced: int
    curated: int
    rejected: int
    dlq: int
    pending: int
    malformed_planted: int
    duplicates_planted: int
    examples_curated: int
    examples_rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    dlq_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    database: str = ""

    @property
    def complete(self) -> bool:
        """True when curated + rejected + dlq == produced."""
        return self.curated + self.rejected + self.dlq == self.produced and self.pending == 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return asdict(self)


def run_demo(
    settings: Settings,
    *,
    events: int,
    bad_fraction: float,
    seed: int = 7,
    timeout_s: float = 300.0,
    progress: bool = True,
    log_dir: Path | None = None,
) -> DemoSummary:
    """Run the whole flywheel on generated events and return the accounting."""
    started = time.monotonic()
    since = datetime.now(UTC)
    gen = EventGenerator(seed=seed, bad_fraction=bad_fraction)
    records = list(gen.records(events))
    labels = Counter(r.label.split(":")[0] for r in records)
    with Supervisor(settings, log_dir=log_dir) as sup:
        sup.wait_ready()
        assert sup.broker is not None
        run_settings = settings.model_copy(
            update={"kafka_bootstrap": sup.broker.bootstrap, "kafka_idempotence": False}
        )
        layout = TopicLayout.from_settings(run_settings)
        with tqdm(total=events, desc="produce", unit="ev", disable=not progress) as bar:
            asyncio.run(
                produce(
                    run_settings,
                    ((layout.source(r.source), r.key, r.value) for r in records),
                    on_sent=bar.update,
                )
            )
        store = ExampleStore(settings.database_url)
        try:
            tally = store.tally(since)
            deadline = time.monotonic() + timeout_s
            with tqdm(total=events, desc="accounted", unit="ev", disable=not progress) as bar:
                while tally.accounted < events and time.monotonic() < deadline:
                    sup.poll()
                    time.sleep(0.5)
                    tally = store.tally(since)
                    bar.update(tally.accounted - bar.n)
        finally:
            store.close()
    summary = DemoSummary(
        produced=events,
        curated=tally.curated,
        rejected=tally.rejected,
        dlq=tally.dlq,
        pending=tally.pending,
        malformed_planted=labels["malformed"],
        duplicates_planted=labels["duplicate"],
        examples_curated=tally.examples_curated,
        examples_rejected=tally.examples_rejected,
        rejected_by_reason=tally.rejected_by_reason,
        dlq_by_reason=tally.dlq_by_reason,
        seconds=round(time.monotonic() - started, 1),
        database=make_url(settings.database_url).render_as_string(hide_password=True),
    )
    if tally.accounted > events:
        raise WinnowError(f"store holds {tally.accounted} outcomes for {events} events: not empty?")
    return summary
