"""Train/validation/test splits without leakage, and decontamination against an evaluation set.

Splits: an example's *conversation* is its prompt (every message before the answer), hashed; all
examples of one conversation (an SFT answer, a thumbs-down, a correction's pair) share a split.
Near-duplicate conversations are clustered first (MinHash LSH over the normalised prompt, each
candidate verified by exact Jaccard similarity of character 5-gram shingles) and a cluster takes
the split of its smallest conversation hash, so no near-duplicate cluster spans two splits. The
split is a fixed function of that hash: the same data gives the same splits on every run. A
cluster that grows a member with a smaller hash can move: compare snapshots, not splits of
different snapshots.

Decontamination: ``--eval-set FILE`` (JSONL with a ``prompt`` string or message list per line, or
plain text lines) is cut into word n-grams; an example whose prompt shares at least ``threshold``
of the shorter side's n-grams with one evaluation prompt is contaminated, and so is its whole
near-duplicate cluster. Contaminated examples are left out of every split and counted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from winnow.dedup.index import MinHasher, normalise_text, shingle_hashes, threshold_bands
from winnow.events import Role
from winnow.example import Example
from winnow.export.conflicts import prompt_key
from winnow.export.exceptions import ExportError

SPLITS = ("train", "validation", "test")
_WORD = re.compile(r"\w+", re.UNICODE)


def prompt_text(example: Example) -> str:
    """The user turns of an example's prompt (what an evaluation prompt is compared with)."""
    return "\n".join(m.content for m in example.prompt_messages if m.role is Role.USER)


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """Word n-grams of the normalised text; a text shorter than ``n`` words is one gram."""
    words = _WORD.findall(normalise_text(text))
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass
class EvalSet:
    """A user's evaluation prompts, indexed by n-gram."""

    n: int
    threshold: float
    prompts: list[set[tuple[str, ...]]] = field(default_factory=list)
    _index: dict[tuple[str, ...], list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, path: Path, *, n: int, threshold: float) -> EvalSet:
        """Read ``path``: JSONL (``prompt`` a string or a list of messages) or text lines."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ExportError(f"cannot read the evaluation set {path}: {exc.strerror}") from exc
        out = cls(n, threshold)
        for number, line in enumerate(lines, 1):
            if line.strip():
                out.add(_eval_prompt(line, path, number))
        return out

    def add(self, text: str) -> None:
        """Index one evaluation prompt."""
        grams = ngrams(text, self.n)
        for g in grams:
            self._index[g].append(len(self.prompts))
        self.prompts.append(grams)

    def contaminated(self, text: str) -> bool:
        """Whether ``text`` overlaps one evaluation prompt by at least the threshold."""
        mine = ngrams(text, self.n)
        shared: Counter[int] = Counter()
        for g in mine:
            shared.update(self._index.get(g, ()))
        return any(
            k >= self.threshold * min(len(mine), len(self.prompts[i])) for i, k in shared.items()
        )


def _eval_prompt(line: str, path: Path, number: int) -> str:
    if not line.lstrip().startswith("{"):
        return line
    try:
        value: Any = json.loads(line)["prompt"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ExportError(
            f"{path}:{number}: not a JSON object with a `prompt` (or use plain text lines)"
        ) from exc
    if isinstance(value, list):
        return "\n".join(str(m.get("content", "")) for m in value if m.get("role") == "user")
    return str(value)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = x
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the smaller hash represents the cluster
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


class SplitAssigner:
    """Assigns split names to examples; built from every example of the tenant first."""

    def __init__(
        self,
        fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
        *,
        threshold: float = 0.75,
        eval_set: EvalSet | None = None,
    ) -> None:
        if abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
            raise ExportError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
        self.fractions = fractions
        self.threshold = threshold
        self.eval_set = eval_set
        bands, rows = threshold_bands(threshold)
        self._hasher = MinHasher(bands=bands, rows=rows)
        self._clusters = _UnionFind()
        self._buckets: dict[int, list[str]] = defaultdict(list)
        self._shingles: dict[str, frozenset[int]] = {}
        self._dirty: set[str] = set()
        self.removed: Counter[str] = Counter()

    def add(self, example: Example) -> None:
        """Cluster one example's conversation with the near-duplicate ones seen so far."""
        key = prompt_key(example)
        if key in self._shingles:
            return
        text = prompt_text(example) or "\n".join(m.content for m in example.prompt_messages)
        norm = normalise_text(text)
        mine = frozenset(shingle_hashes(norm).tolist())
        self._shingles[key] = mine
        self._clusters.find(key)
        for band in self._hasher.band_keys(self._hasher.signature(shingle_hashes(norm))).tolist():
            for other in self._buckets[band]:
                if self._clusters.find(other) == self._clusters.find(key):
                    continue
                theirs = self._shingles[other]
                if len(mine & theirs) >= self.threshold * len(mine | theirs):
                    self._clusters.union(key, other)
            self._buckets[band].append(key)
        if self.eval_set is not None and self.eval_set.contaminated(text):
            self._dirty.add(key)

    def finish(self) -> None:
        """Spread contamination to whole clusters and free the clustering state."""
        self._dirty = {self._clusters.find(k) for k in self._dirty}
        self._buckets.clear()
        self._shingles.clear()

    def contaminated(self, example: Example) -> bool:
        """Whether the example's cluster overlaps the evaluation set (counted when it does)."""
        dirty = self._clusters.find(prompt_key(example)) in self._dirty
        if dirty:
            self.removed[example.kind.value] += 1
        return dirty

    def split(self, example: Example) -> str:
        """The split of the example's near-duplicate cluster."""
        root = self._clusters.find(prompt_key(example))
        point = int.from_bytes(hashlib.sha256(root.encode()).digest()[:8], "big") / 2**64
        edge = 0.0
        for name, fraction in zip(SPLITS, self.fractions, strict=True):
            edge += fraction
            if point < edge:
                return name
        return SPLITS[-1]

    def report(self) -> dict[str, Any]:
        """What decontamination did, for the manifest."""
        if self.eval_set is None:
            return {"eval_set": False}
        return {
            "eval_set": True,
            "eval_prompts": len(self.eval_set.prompts),
            "ngram": self.eval_set.n,
            "threshold": self.eval_set.threshold,
            "removed_by_kind": dict(sorted(self.removed.items())),
            "removed": sum(self.removed.values()),
        }


def build_splits(examples: Iterable[Example], assigner: SplitAssigner) -> SplitAssigner:
    """Feed every example to ``assigner`` and finish it."""
    for example in examples:
        assigner.add(example)
    assigner.finish()
    return assigner
