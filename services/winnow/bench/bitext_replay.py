"""Replay the Bitext customer-support Q&A through every stage and the store; counts by reason.

Each row becomes a resolved support ticket (question, agent answer). The same stages the services
run — validate and redact, heuristics, the ONNX quality models when built, filters, the
near-duplicate index, the idempotent store — in arrival order, in batches of 256.

Usage: ``.venv/bin/python -m winnow.bench.bitext_replay [CSV]`` (reads ../shared/data in place).
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from winnow.agents.config import filter_config
from winnow.agents.scorer import load_batch_scorer
from winnow.dedup.index import NearDuplicateIndex
from winnow.events import DeadLetter
from winnow.settings import Settings
from winnow.stages.curate import curate_batch
from winnow.stages.decode import Coordinates
from winnow.stages.filters.defaults import default_filters
from winnow.stages.validate import validate_record
from winnow.store import ExampleStore
from winnow.store.migrate import upgrade
from winnow.testing.fixtures import as_bytes, shared_data_dir, ticket_event

DEFAULT_CSV = (
    shared_data_dir()
    / "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
)


def main(path: Path = DEFAULT_CSV) -> None:
    """Print the replay's accounting and rejection counts as Markdown."""
    settings = Settings()
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    score = load_batch_scorer(settings)
    filters = default_filters(filter_config(settings))
    index = NearDuplicateIndex(settings.dedup_near_threshold)
    db = Path(tempfile.mkdtemp()) / "replay.db"
    upgrade(f"sqlite:///{db}")
    store = ExampleStore(f"sqlite:///{db}")
    start = time.perf_counter()
    reasons: Counter[str] = Counter()
    accepted = dlq = 0
    for lo in range(0, len(rows), 256):
        batch = []
        for i, row in enumerate(rows[lo : lo + 256], start=lo):
            raw = as_bytes(ticket_event(row["instruction"], row["response"]))
            out = validate_record(raw, Coordinates("bitext", 0, i), max_bytes=262_144)
            if isinstance(out, DeadLetter):
                dlq += 1
            else:
                batch += out
        decided, signatures = curate_batch(score(batch), filters, index)
        outcome = store.write_decisions(decided, signatures)
        accepted += len(outcome.accepted)
        for ex in outcome.rejected:
            reasons.update(r.value for r in (ex.decision.reasons if ex.decision else []))
    elapsed = time.perf_counter() - start
    tally = store.tally()
    print(
        f"rows {len(rows)}: curated {tally.curated}, rejected {tally.rejected}, dlq {dlq} "
        f"({len(rows) / elapsed:.0f} rows/s, {elapsed:.1f} s)"
    )
    print("\n| reason | rejected examples carrying it |\n|---|---|")
    for reason, n in reasons.most_common():
        print(f"| {reason} | {n} |")
    print(json.dumps({"rows": len(rows), "curated": accepted, "reasons": dict(reasons)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV)
