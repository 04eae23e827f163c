"""One label per (prompt, completion): resolve contradicting feedback before anything is exported.

Every accepted example casts *votes*: an SFT example says its answer is good for its prompt, a
negative that it is bad, a preference that its chosen answer is good and its rejected one bad.
Votes are counted once per source event (a correction's preference and its SFT copy are one vote).
A (prompt, completion) whose votes disagree is a *label conflict*; the policy decides it:

- ``latest``: the vote with the latest event time wins (ties: the larger event id);
- ``reviewer``: a reviewer's vote beats anyone else's, then the latest;
- ``majority``: the label with more distinct votes wins if it has at least ``min_count`` of them;
  otherwise the pair is *unresolved* and nothing about it is exported.

Several different corrections of one prompt (chosen answers of preferences) are a *correction
conflict*: the policy keeps one (latest / reviewer-then-latest / most votes-then-latest) and the
others are recorded, not exported.

An example is exported only when every vote it casts agrees with the resolution, so no export
holds a contradictory pair: a KTO label is the resolved one, a DPO pair's chosen side is good and
its rejected side bad. Keys are hashes: nothing here holds customer text beyond one pass.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from winnow.events import FeedbackGiver, Role
from winnow.example import Example, ExampleKind


class ConflictPolicy(StrEnum):
    """How a label conflict between feedback votes is decided."""

    LATEST = "latest"
    REVIEWER = "reviewer"
    MAJORITY = "majority"


@dataclass(frozen=True, slots=True)
class Vote:
    """One source event's label for one completion of one prompt."""

    prompt: str
    completion: str
    good: bool
    rank: int
    time: datetime
    event_id: str
    correction: bool

    @property
    def key(self) -> tuple[str, str]:
        """The (prompt hash, completion hash) the vote is about."""
        return self.prompt, self.completion

    def order(self) -> tuple[datetime, str]:
        """Latest-first ordering key."""
        return self.time, self.event_id


def _digest(value: Any) -> str:
    data = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(data.encode(), digest_size=16).hexdigest()


def prompt_key(example: Example) -> str:
    """Hash of an example's prompt (every message before the answer, with roles)."""
    return _digest([[m.role.value, m.content] for m in example.prompt_messages])


def _rank(provenance: str) -> int:
    return 1 if provenance == FeedbackGiver.REVIEWER.value else 0


def votes_of(example: Example) -> list[Vote]:
    """The votes an accepted example casts (none for an example without an answer)."""
    prompt = prompt_key(example)
    rank = _rank(example.provenance)

    def vote(text: str, good: bool, correction: bool = False) -> Vote:
        return Vote(
            prompt,
            _digest(text),
            good,
            rank,
            example.event_time,
            example.source.event_id,
            correction,
        )

    if example.kind is ExampleKind.PREFERENCE:
        out = [vote(example.chosen, True, True)] if example.chosen is not None else []
        if example.rejected is not None:
            out.append(vote(example.rejected, False))
        return out
    if not example.messages or example.messages[-1].role is not Role.ASSISTANT:
        return []
    return [vote(example.answer, example.kind is ExampleKind.SFT)]


@dataclass
class ConflictReport:
    """What resolution found: counts for the manifest and the dashboard, and dropped ids."""

    policy: str
    min_count: int
    label_conflicts: int = 0
    unresolved: int = 0
    correction_conflicts: int = 0
    discarded_corrections: list[dict[str, Any]] = field(default_factory=list)
    dropped_examples: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (for manifests)."""
        return {
            "policy": self.policy,
            "min_count": self.min_count,
            "label_conflicts": self.label_conflicts,
            "unresolved": self.unresolved,
            "correction_conflicts": self.correction_conflicts,
            "discarded_corrections": self.discarded_corrections,
            "dropped_examples_by_kind": dict(sorted(self.dropped_examples.items())),
        }


class Resolution:
    """The label of every (prompt, completion), and which examples agree with it."""

    def __init__(self, labels: dict[tuple[str, str], bool | None], report: ConflictReport) -> None:
        self._labels = labels
        self.report = report

    def label(self, prompt: str, completion: str) -> bool | None:
        """The resolved label; None when unresolved or a discarded correction."""
        return self._labels.get((prompt, completion))

    def agrees(self, example: Example) -> bool:
        """Whether every vote ``example`` casts matches the resolution (it may be exported)."""
        ok = all(self._labels.get(v.key) is v.good for v in votes_of(example))
        if not ok:
            self.report.dropped_examples[example.kind.value] += 1
        return ok


def _decide(votes: list[Vote], policy: ConflictPolicy, min_count: int) -> bool | None:
    if policy is ConflictPolicy.MAJORITY:
        counts = Counter(v.good for v in votes)
        good, bad = counts[True], counts[False]
        if good == bad or max(good, bad) < min_count:
            return None
        return good > bad
    if policy is ConflictPolicy.REVIEWER:
        return max(votes, key=lambda v: (v.rank, *v.order())).good
    return max(votes, key=Vote.order).good


def _pick_correction(candidates: dict[str, list[Vote]], policy: ConflictPolicy) -> str:
    def strength(completion: str) -> tuple[Any, ...]:
        votes = candidates[completion]
        latest = max(v.order() for v in votes)
        if policy is ConflictPolicy.MAJORITY:
            return (len(votes), latest, completion)
        if policy is ConflictPolicy.REVIEWER:
            return (max(v.rank for v in votes), latest, completion)
        return (latest, completion)

    return max(candidates, key=strength)


def resolve(
    examples: Iterable[Example], policy: ConflictPolicy, *, min_count: int = 2
) -> Resolution:
    """Resolve every vote of ``examples`` (one tenant's accepted examples) under ``policy``."""
    by_key: dict[tuple[str, str], dict[str, Vote]] = defaultdict(dict)
    for example in examples:
        for v in votes_of(example):
            # One vote per event: a correction's preference and SFT copy say the same thing.
            # The preference's vote is kept: it marks the completion as a correction.
            slot = f"{v.event_id}|{v.good}"
            if slot not in by_key[v.key] or v.correction:
                by_key[v.key][slot] = v
    report = ConflictReport(policy.value, min_count)
    labels: dict[tuple[str, str], bool | None] = {}
    for key, event_votes in by_key.items():
        votes = list(event_votes.values())
        if len({v.good for v in votes}) == 1:
            labels[key] = votes[0].good
            continue
        report.label_conflicts += 1
        labels[key] = _decide(votes, policy, min_count)
        if labels[key] is None:
            report.unresolved += 1
    corrections: dict[str, dict[str, list[Vote]]] = defaultdict(dict)
    for (prompt, completion), event_votes in by_key.items():
        good = [v for v in event_votes.values() if v.good]
        if labels[(prompt, completion)] and any(v.correction for v in good):
            corrections[prompt][completion] = good
    for prompt, candidates in sorted(corrections.items()):
        if len(candidates) < 2:
            continue
        report.correction_conflicts += 1
        kept = _pick_correction(candidates, policy)
        discarded = sorted(c for c in candidates if c != kept)
        for completion in discarded:
            labels[(prompt, completion)] = None
        report.discarded_corrections.append(
            {"prompt": prompt, "kept": kept, "discarded": discarded}
        )
    return Resolution(labels, report)
