"""Brute-force exact Jaccard: the ground truth the dedup benchmark holds the LSH index against."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from winnow.dedup.index import normalise_text, shingle_hashes


class ExactJaccardScan:
    """Exact shingle Jaccard of a few query texts against every indexed text, one text at a time.

    The queries' shingles go into one sorted array with a CSR list of the queries holding each
    shingle, so one indexed text costs one ``searchsorted`` whatever the number of queries.
    """

    def __init__(self, queries: list[str]) -> None:
        sets = [shingle_hashes(normalise_text(q)) for q in queries]
        self.sizes = np.array([s.size for s in sets], dtype=np.int64)
        labels = np.concatenate([np.full(s.size, i, dtype=np.int64) for i, s in enumerate(sets)])
        values = np.concatenate(sets) if sets else np.zeros(0, dtype=np.uint64)
        order = np.argsort(values, kind="stable")
        values, self.labels = values[order], labels[order]
        self.unique, starts = np.unique(values, return_index=True)
        self.indptr = np.append(starts, values.size).astype(np.int64)
        self.best = np.zeros(len(queries), dtype=np.float64)

    def update(self, shingles: npt.NDArray[np.uint64]) -> None:
        """Fold one indexed text's shingle set into every query's best Jaccard so far."""
        if not self.unique.size:
            return
        pos = np.minimum(np.searchsorted(self.unique, shingles), self.unique.size - 1)
        pos = pos[self.unique[pos] == shingles]
        if not pos.size:
            return
        starts, ends = self.indptr[pos], self.indptr[pos + 1]
        lens = ends - starts
        flat = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
        inter = np.bincount(self.labels[flat], minlength=self.sizes.size)
        jaccard = inter / (self.sizes + shingles.size - inter)
        np.maximum(self.best, jaccard, out=self.best)
