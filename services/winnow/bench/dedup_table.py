"""Print the dedup measurements: precision/recall on planted copies, speed, bytes per example.

Usage: ``.venv/bin/python -m winnow.bench.dedup_table [N] [SEED]`` (reads ../shared/data in
place). The index at 100k and 1M examples, against exact search: ``winnow bench dedup``.
"""

from __future__ import annotations

import sys

from winnow.bench.dedup_quality import measure_dedup, measure_memory


def main(n: int = 5000, seed: int = 0) -> None:
    """Print one table row per threshold, then memory at 100k examples."""
    print(
        "| threshold | bands x rows | precision | recall | FP | corpus near-dups |"
        " examples/s | recall by edit |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for threshold in (0.7, 0.75, 0.8):
        r = measure_dedup(n, seed, threshold)
        edits = ", ".join(f"{k} {v:.3f}" for k, v in r.by_edit_recall.items())
        print(
            f"| {threshold} | {r.bands}x{r.rows} | {r.precision:.4f} | {r.recall:.4f} | "
            f"{r.false_positives} | {r.corpus_duplicates} | {r.examples_per_s:.0f} | {edits} |"
        )
    print(f"bytes/example at 100k (tracemalloc): {measure_memory(100_000):.1f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
