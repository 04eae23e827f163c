"""Run the Bitext customer-support Q&A through the curation filters; print counts by reason.

Usage: ``.venv/bin/python -m winnow.bench.filter_replay [CSV]`` (reads the shared data in
place).
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from pathlib import Path

from winnow.agents.config import filter_config
from winnow.events import SOURCE_EVENT_ADAPTER
from winnow.settings import Settings
from winnow.stages.decode import Coordinates
from winnow.stages.filters.base import decide
from winnow.stages.filters.defaults import default_filters
from winnow.stages.heuristics import score_heuristics
from winnow.stages.normalise import event_to_examples
from winnow.testing.fixtures import shared_data_dir, ticket_event

DEFAULT_CSV = (
    shared_data_dir()
    / "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
)


def main(path: Path = DEFAULT_CSV) -> None:
    """Print, per drop reason, how many Bitext rows it applies to, and the accepted count."""
    filters = default_filters(filter_config(Settings()))
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    reasons: Counter[str] = Counter()
    first: Counter[str] = Counter()
    accepted = 0
    start = time.perf_counter()
    for row in rows:
        doc = ticket_event(row["instruction"], row["response"])
        [ex] = event_to_examples(SOURCE_EVENT_ADAPTER.validate_python(doc), Coordinates())
        out = decide(score_heuristics(ex), filters)
        assert out.decision is not None
        if out.decision.status == "accepted":
            accepted += 1
        reasons.update(r.value for r in out.decision.reasons)
        if out.decision.reasons:
            first[out.decision.reasons[0].value] += 1
    elapsed = time.perf_counter() - start
    print(f"rows {len(rows)}  accepted {accepted}  ({len(rows) / elapsed:.0f} rows/s)")
    print("| reason | examples carrying it |")
    print("|---|---|")
    for reason, n in reasons.most_common():
        print(f"| {reason} | {n} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV)
