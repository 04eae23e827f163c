"""Rebuild the vendored samples beside this file from the full datasets folder (argument 1)."""

from __future__ import annotations

import collections
import csv
import gzip
import json
import sys
from pathlib import Path

BITEXT = "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
QA = "qa-feedback-finegrained-rlhf/dev_feedback.shared.json"
HH = ("harmless-base", "helpful-base", "helpful-online")


def main(full: Path, out: Path) -> None:
    """Write the first 24 Bitext rows per intent, 20 QA-Feedback records, 100 HH lines each."""
    with (full / BITEXT).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    per_intent: collections.Counter[str] = collections.Counter()
    keep = []
    for row in rows:
        if per_intent[row["intent"]] < 24:
            per_intent[row["intent"]] += 1
            keep.append(row)
    (out / BITEXT).parent.mkdir(parents=True, exist_ok=True)
    with (out / BITEXT).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(keep)
    records = json.loads((full / QA).read_text(encoding="utf-8"))[:20]
    (out / QA).parent.mkdir(parents=True, exist_ok=True)
    (out / QA).write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    for subset in HH:
        with gzip.open(full / "hh-rlhf" / subset / "test.jsonl.gz", "rt", encoding="utf-8") as f:
            lines = [next(f) for _ in range(100)]
        dest = out / "hh-rlhf" / subset / "test.jsonl.gz"
        dest.parent.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(dest, "wb", mtime=0) as g:
            g.write("".join(lines).encode())


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parent)
