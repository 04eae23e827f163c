"""``winnow bench scorer``: the scorer path against a bare ONNX Runtime session, same texts.

Not a test: it prints numbers for ``docs/benchmarks.md``. The bare session tokenises each batch
in input order (padding each batch to its longest text) and runs the same ONNX file with the
same providers; "bare, same buckets" feeds that session the scorer's own length buckets, so the
scorer's ratio to it is its true overhead (heads, de-duplication, example copies). With the
cross-encoder reward (``WINNOW_REWARD_MODEL=cross``) both ceilings also run the cross-encoder's
session on the same (context, response) pairs, in input order or in the scorer's length order.
All count examples (a question and an answer each) per second.
"""

from __future__ import annotations

import csv
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, SourceRef, example_id
from winnow.scoring import QualityScorer
from winnow.scoring.build.samples import sample_texts
from winnow.scoring.cross import render_context

BUCKETS = ((1, 32), (33, 96), (97, 256))


@dataclass(frozen=True, slots=True)
class Rate:
    """One measurement: what ran, at which batch size, how fast."""

    label: str
    batch: int
    items: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Items per second."""
        return self.items / self.seconds if self.seconds else 0.0


def load_pairs(data_root: Path, n: int) -> list[tuple[str, str]]:
    """``n`` (question, answer) pairs: Bitext support data when present, else the sample texts."""
    path = (
        data_root
        / "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
    )
    pairs: list[tuple[str, str]] = []
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as f:
            pairs = [(r["instruction"], r["response"]) for r in csv.DictReader(f)]
    if not pairs:
        texts = sample_texts()
        pairs = [(texts[i], texts[(i + 13) % len(texts)]) for i in range(len(texts))]
    # Past the data's size, a ticket number keeps texts unique (the scorer de-duplicates).
    return [
        (q, a) if i < len(pairs) else (f"Ticket {i}: {q}", a + f" (ref {i})")
        for i, (q, a) in ((i, pairs[i % len(pairs)]) for i in range(n))
    ]


def make_examples(pairs: list[tuple[str, str]]) -> list[Example]:
    """SFT examples of the pairs, as the normaliser would build them."""
    out: list[Example] = []
    now = datetime.now(UTC)
    for i, (q, a) in enumerate(pairs):
        msgs = [ChatMessage(role=Role.USER, content=q), ChatMessage(role=Role.ASSISTANT, content=a)]
        out.append(
            Example(
                id=example_id(tenant="bench", kind=ExampleKind.SFT, messages=msgs),
                kind=ExampleKind.SFT,
                tenant="bench",
                messages=msgs,
                provenance="human_agent",
                source=SourceRef(event_id=f"bench-{i}", event_type="bench"),
                event_time=now,
            )
        )
    return out


def _timed(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` runs after a warm-up (other load only ever slows a run down)."""
    fn()  # warm-up: first runs allocate arenas and pick kernels
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def bare_ort(
    scorer: QualityScorer, pairs: list[tuple[str, str]], batch: int
) -> Callable[[], object]:
    """Tokenise and run the embedder's ONNX file directly, batch by batch, in input order."""
    emb = scorer.embedder
    texts = [t for pair in pairs for t in pair]
    session = emb.session
    per_call = batch * 2

    def run() -> None:
        for start in range(0, len(texts), per_call):
            ids, mask = emb.tokenizer(texts[start : start + per_call])
            session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )

    return run


def bare_cross(
    scorer: QualityScorer, pairs: list[tuple[str, str]], batch: int, *, by_length: bool
) -> Callable[[], None]:
    """The cross-encoder's session on the same (context, response) pairs; a no-op without it.

    ``by_length``: in the scorer's own order (sorted by length, as ``raw_scores`` does), else in
    input order (each batch padded to its longest pair).
    """
    cross = scorer.cross
    if cross is None:
        return lambda: None
    contexts = [render_context([ChatMessage(role=Role.USER, content=q)]) for q, _ in pairs]
    responses = [a for _, a in pairs]
    order = list(range(len(pairs)))
    if by_length:
        order.sort(key=lambda i: len(contexts[i]) + len(responses[i]))
    step = min(batch, cross.batch_max)

    def run() -> None:
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            ids, mask, types = cross.tokenizer(
                [contexts[i] for i in rows], [responses[i] for i in rows]
            )
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            cross.session.run(["score"], feeds)

    return run


def _both(first: Callable[[], object], second: Callable[[], object]) -> Callable[[], object]:
    def run() -> None:
        first()
        second()

    return run


def scorer_path(scorer: QualityScorer, examples: list[Example], batch: int) -> Callable[[], object]:
    """``score_batch`` over the examples in agent-sized batches."""

    def run() -> None:
        for start in range(0, len(examples), batch):
            scorer.score_batch(examples[start : start + batch])

    return run


def bare_bucketed(
    scorer: QualityScorer, pairs: list[tuple[str, str]], batch: int
) -> Callable[[], object]:
    """The bare session fed the scorer's own length buckets: the scorer minus heads and copies."""
    emb = scorer.embedder
    texts = [t for pair in pairs for t in pair]
    per_call = batch * 2

    def run() -> None:
        for start in range(0, len(texts), per_call):
            encoded = emb.tokenizer.encode(texts[start : start + per_call])
            for chunk in emb.buckets(encoded):
                ids, mask = emb.tokenizer.pad([encoded[i] for i in chunk])
                emb.session.run(
                    None,
                    {
                        "input_ids": ids,
                        "attention_mask": mask,
                        "token_type_ids": np.zeros_like(ids),
                    },
                )

    return run


def compare(
    scorer: QualityScorer, pairs: list[tuple[str, str]], batch: int, repeat: int
) -> tuple[Rate, Rate, Rate]:
    """Scorer, bare ORT and bucketed bare ORT on the same pairs at one batch size.

    The three paths take turns and each keeps its fastest run: on a shared machine, other
    load only ever slows a run down, so the minimum is the least disturbed figure.
    """
    examples = make_examples(pairs)
    # The embedder's internal bucket equals the agent batch in texts, like the bare session.
    scorer.embedder.batch_max = batch * 2
    # With the cross-encoder the ceilings run its session too: the scorer does both passes.
    paths = {
        "scorer": scorer_path(scorer, examples, batch),
        "bare-ort": _both(
            bare_ort(scorer, pairs, batch), bare_cross(scorer, pairs, batch, by_length=False)
        ),
        "bare-bucketed": _both(
            bare_bucketed(scorer, pairs, batch), bare_cross(scorer, pairs, batch, by_length=True)
        ),
    }
    best = {name: float("inf") for name in paths}
    for warm_up in paths.values():
        warm_up()  # first runs allocate arenas and pick kernels
    for _ in range(repeat):
        for name, fn in paths.items():
            started = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - started)
    n = len(examples)
    s, b, bb = (Rate(name, batch, n, best[name]) for name in paths)
    return s, b, bb


def by_bucket(scorer: QualityScorer, texts: list[str], batch: int, repeat: int) -> list[Rate]:
    """Embedder sentences/s per token-length bucket at one batch size."""
    emb = scorer.embedder
    encoded = emb.tokenizer.encode(texts)
    rates: list[Rate] = []
    for lo, hi in BUCKETS:
        chosen = [e for e in encoded if lo <= len(e.ids) <= hi][: max(batch * 4, 64)]
        if not chosen:
            continue
        emb.batch_max = batch
        seconds = _timed(lambda chosen=chosen: emb.embed_encoded(chosen), repeat)  # type: ignore[misc]
        rates.append(Rate(f"{lo}-{hi} tokens", batch, len(chosen), seconds))
    return rates


def machine() -> str:
    """A one-line description of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"
