"""``QualityScorer``: reward, relevance and domain for a batch of examples.

Per batch, every distinct text (last user question, answer, rejected answer) is tokenised and
embedded once, in length buckets; the heads then run on the embeddings. Scored examples are
copies: the input examples are never mutated.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import structlog

from winnow.events import Role
from winnow.example import Example, ExampleKind
from winnow.scoring.embedder import Embedder
from winnow.scoring.heads import RewardHead, RouterHead
from winnow.scoring.runtime import SessionConfig
from winnow.settings import Settings


def _log() -> structlog.typing.FilteringBoundLogger:
    # A fresh proxy per call: a module-level one caches whatever stream logging was configured
    # with on first use (with ``cache_logger_on_first_use``), e.g. a test runner's closed stderr.
    return structlog.get_logger(__name__)  # type: ignore[no-any-return]


TRUNCATED_FLAG = "truncated"


def question_of(example: Example) -> str:
    """The customer question an answer responds to: the last user turn before it."""
    for message in reversed(example.prompt_messages):
        if message.role is Role.USER:
            return message.content
    # No user turn (a system prompt only): the prompt is still the best context we have.
    return "\n".join(m.content for m in example.prompt_messages)


class QualityScorer:
    """Scores examples with the MiniLM embedder, the router and the reward head."""

    def __init__(
        self,
        embedder: Embedder,
        router: RouterHead,
        reward: RewardHead,
        *,
        min_confidence: float | None = None,
    ) -> None:
        self.embedder = embedder
        self.router = router
        self.reward = reward
        self.min_confidence = min_confidence
        self.model_versions = {
            "embedder": embedder.version,
            "router": router.version,
            "reward": reward.version,
            "relevance": f"cosine:{embedder.version}",
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> QualityScorer:
        """Load every model named by the settings.

        Raises :class:`~winnow.scoring.exceptions.ModelsNotBuiltError` when an artefact is
        missing (callers fall back to heuristics); never raises for a missing GPU.
        """
        config = session_config(settings)
        models_dir = Path(settings.models_dir)
        # Heads first: they are committed, so a missing one is the cheaper error to report.
        router = RouterHead.load(models_dir, "router", config)
        reward = RewardHead.load(models_dir, "reward", config)
        precision = None if settings.embedder_precision == "auto" else settings.embedder_precision
        embedder = Embedder.load(
            models_dir,
            config,
            precision=precision,
            max_tokens=settings.max_tokens,
            batch_max=settings.score_batch_max,
        )
        return cls(embedder, router, reward, min_confidence=settings.router_min_confidence)

    def score_batch(self, examples: list[Example]) -> list[Example]:
        """Return scored copies, in input order, with scores, domain, flags and model versions."""
        if not examples:
            return []
        started = time.perf_counter()
        questions = [question_of(e) for e in examples]
        answers = [e.answer for e in examples]
        rejected = [e.rejected if e.kind is ExampleKind.PREFERENCE else None for e in examples]
        # Identical texts (a shared question, a repeated canned answer) are embedded once.
        texts = list(dict.fromkeys([*questions, *answers, *(r for r in rejected if r is not None)]))
        index = {t: i for i, t in enumerate(texts)}
        embedded = self.embedder.embed(texts)
        vec, cut = embedded.vectors, embedded.truncated
        q = vec[[index[t] for t in questions]]
        a = vec[[index[t] for t in answers]]
        relevance = np.clip((q * a).sum(axis=1), -1.0, 1.0)
        reward = self.reward.reward(q, a)
        domains, confidences = self.router.route(q, self.min_confidence)
        pref_rows = [i for i, r in enumerate(rejected) if r is not None]
        reward_rejected = self.reward.reward(
            q[pref_rows], vec[[index[rejected[i] or ""] for i in pref_rows]]
        )
        rejected_reward = dict(zip(pref_rows, reward_rejected.tolist(), strict=True))
        out: list[Example] = []
        for i, ex in enumerate(examples):
            scores = {
                **ex.scores,
                "reward": float(reward[i]),
                "relevance": float(relevance[i]),
                "domain_confidence": float(confidences[i]),
            }
            if i in rejected_reward:
                scores["reward_rejected"] = rejected_reward[i]
                scores["reward_margin"] = scores["reward"] - rejected_reward[i]
            rej = rejected[i]
            texts_of = [questions[i], answers[i], *([rej] if rej is not None else [])]
            flags = list(ex.flags)
            if any(cut[index[t]] for t in texts_of) and TRUNCATED_FLAG not in flags:
                flags.append(TRUNCATED_FLAG)
            out.append(
                ex.model_copy(
                    update={
                        "scores": scores,
                        "domain": domains[i],
                        "flags": flags,
                        "model_versions": {**ex.model_versions, **self.model_versions},
                    }
                )
            )
        _log().debug(
            "scored_batch",
            examples=len(examples),
            texts=len(texts),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return out


def session_config(settings: Settings) -> SessionConfig:
    """ONNX Runtime session settings from Winnow's settings."""
    return SessionConfig(
        providers=list(settings.ort_providers),
        intra_op_threads=settings.ort_intra_op_threads,
        inter_op_threads=settings.ort_inter_op_threads,
        graph_optimization=settings.ort_graph_optimization,
        log_severity=settings.ort_log_severity,
    )
