"""Benchmark text: real support Q&A read in place, stretched to any size by recombining it.

Real pairs are Bitext customer-support Q&A and schema-guided-dialogue turn pairs from the shared
datasets (``winnow.testing.fixtures.shared_data_dir()``): about 5,300 distinct pairs (648 from
the repository's vendored sample under ``tests/data`` when the full data is absent). Benchmarks
at 100k or 1M examples need more: :func:`bench_pairs` continues with *recombined* pairs, a real
question
followed by 2-5 real answer sentences drawn at random, so texts keep the corpus's vocabulary,
templates and lengths while almost never being near duplicates of each other (two recombined
answers share most sentences with probability ~0). Without the datasets, Winnow's own event
generator supplies the sentences.
"""

from __future__ import annotations

import csv
import json
import random
import re
from datetime import UTC, datetime

from winnow.events import ChatMessage, Role
from winnow.example import Decision, Example, ExampleKind, SourceRef, example_id
from winnow.reasons import DropReason
from winnow.testing.fixtures import shared_data_dir

DATA = shared_data_dir()
BITEXT = (
    DATA / "bitext-customer-support-llm/Bitext_Sample_Customer_Support_Training_Dataset.shared.csv"
)
SGD = DATA / "schema-guided-dialogue/train"
_T0 = datetime(2026, 11, 1, tzinfo=UTC)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def load_pairs(limit: int | None = None) -> list[tuple[str, str]]:
    """Real (question, answer) pairs: every Bitext row, then SGD user/system turn pairs."""
    pairs: list[tuple[str, str]] = []
    if BITEXT.exists():
        with BITEXT.open(newline="") as fh:
            pairs += [(r["instruction"], r["response"]) for r in csv.DictReader(fh)]
    for path in sorted(SGD.glob("dialogues_*.json")):
        for dialogue in json.loads(path.read_text()):
            turns = [t["utterance"] for t in dialogue["turns"]]
            for i in range(0, len(turns) - 3, 2):
                pairs.append((turns[i], f"{turns[i + 1]} {turns[i + 3]}"))
    unique = list(dict.fromkeys(pairs))
    return unique[:limit] if limit else unique


def _generated_pairs(n: int = 400) -> list[tuple[str, str]]:
    """Q&A from Winnow's event generator: the fallback when the shared datasets are absent."""
    from winnow.demo.generator import EventGenerator

    gen = EventGenerator(seed=3, pii_fraction=0.0, multi_turn_fraction=0.0)
    out: list[tuple[str, str]] = []
    for _ in range(n):
        data = gen.event()["data"]
        if "turns" in data:  # ticket: greeting, question, answer[, thanks]
            out.append((data["turns"][1]["text"], data["turns"][2]["text"]))
        elif "prompt" in data:  # synthetic
            out.append((data["prompt"], data["response"]))
        else:  # feedback: the correction, when there is one, is the good answer
            out.append(
                (data["messages"][-1]["content"], data.get("correction") or data["response"])
            )
    return list(dict.fromkeys(out))


def bench_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct pairs: the real ones shuffled by ``seed``, then recombined ones."""
    rng = random.Random(seed)
    real = load_pairs() or _generated_pairs()
    rng.shuffle(real)
    if n <= len(real):
        return real[:n]
    questions = [q for q, _ in real]
    sentences = list(
        dict.fromkeys(s.strip() for _, a in real for s in _SENTENCE.split(a) if len(s) > 20)
    )
    out = list(real)
    seen = set(out)
    while len(out) < n:
        answer = " ".join(rng.sample(sentences, k=rng.randint(2, 5)))
        pair = (rng.choice(questions), answer)
        if pair not in seen:
            seen.add(pair)
            out.append(pair)
    return out


def make_example(question: str, answer: str, tenant: str = "acme", n: int = 0) -> Example:
    """A minimal SFT example around one question and answer (source event ``e<n>``)."""
    messages = [
        ChatMessage(role=Role.USER, content=question),
        ChatMessage(role=Role.ASSISTANT, content=answer),
    ]
    return Example(
        id=example_id(tenant=tenant, kind=ExampleKind.SFT, messages=messages),
        kind=ExampleKind.SFT,
        tenant=tenant,
        messages=messages,
        provenance="human_agent",
        source=SourceRef(event_id=f"e{n}", event_type="bench"),
        event_time=_T0,
    )


_DOMAINS = ("billing", "shipping", "account", "orders", "refunds")
_REASONS = (DropReason.TEMPLATE_PLACEHOLDER, DropReason.LOW_REWARD, DropReason.NEAR_DUPLICATE)


def decided_examples(
    pairs: list[tuple[str, str]],
    *,
    rejected_fraction: float = 0.2,
    tenant: str = "bench",
    seed: int = 0,
    first: int = 0,
) -> list[Example]:
    """Examples as the curator hands them to the store: scored, routed, accepted or rejected.

    Scores, flags, model versions and reasons have the shapes the real stages give them, so
    rows weigh what production rows weigh; ``first`` numbers the source events.
    """
    rng = random.Random(seed)
    versions = {
        "embedder": "minilm-l6-v2:int8:bench",
        "router": "router:bench",
        "reward": "reward:bench",
        "relevance": "cosine:minilm-l6-v2:int8:bench",
    }
    out: list[Example] = []
    for i, (q, a) in enumerate(pairs, start=first):
        base = make_example(q, a, tenant=tenant, n=i)
        rejected = rng.random() < rejected_fraction
        decision = Decision(
            status="rejected" if rejected else "accepted",
            reasons=[rng.choice(_REASONS)] if rejected else [],
        )
        domain = rng.choice(_DOMAINS)
        out.append(
            base.model_copy(
                update={
                    "domain": domain,
                    "category": domain,
                    "language": "en",
                    "csat": rng.choice([None, 3, 4, 5]),
                    "scores": {
                        "reward": round(rng.random(), 4),
                        "relevance": round(rng.random(), 4),
                        "router_confidence": round(rng.random(), 4),
                        "answer_chars": float(len(a)),
                        "answer_words": float(len(a.split())),
                    },
                    "flags": ["pii_redacted"] if rng.random() < 0.1 else [],
                    "model_versions": versions,
                    "decision": decision,
                    "source": base.source.model_copy(
                        update={"topic": "winnow.scored", "partition": i % 4, "offset": i}
                    ),
                }
            )
        )
    return out
