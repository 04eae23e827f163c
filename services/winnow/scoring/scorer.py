"""``QualityScorer``: reward, relevance and domain for a batch of examples.

Per batch, every distinct text (last user question, answer, rejected answer) is tokenised and
embedded once, in length buckets; the heads then run on the embeddings. Scored examples are
copies: the input examples are never mutated.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import structlog

from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, TurnScore
from winnow.scoring.cross import REWARD_DIR, CrossEncoderReward, cross_available, render_context
from winnow.scoring.embedder import Embedder
from winnow.scoring.heads import FloatArray, RewardHead, RouterHead
from winnow.scoring.quantiles import QUANTILES_FILE, RewardQuantiles
from winnow.scoring.runtime import SessionConfig, warn_once
from winnow.scoring.turns import JudgedTurn, judged_turns
from winnow.settings import Settings
from winnow.stages.ticket import issue_of

TICKET_EVENT = "winnow.support_ticket.v1"


def _log() -> structlog.typing.FilteringBoundLogger:
    # A fresh proxy per call: a module-level one caches whatever stream logging was configured
    # with on first use (with ``cache_logger_on_first_use``), e.g. a test runner's closed stderr.
    return structlog.get_logger(__name__)  # type: ignore[no-any-return]


TRUNCATED_FLAG = "truncated"


def routing_text(example: Example) -> str:
    """What the router reads: a ticket's issue statement, else the last user question.

    The last customer turn of a real ticket is usually "thanks, that's all"; the customer's first
    substantive message says what the ticket is about (measured in docs/conversations.md).
    """
    if example.source.event_type == TICKET_EVENT:
        issue = issue_of(example.messages)
        if issue:
            return issue
    return question_of(example)


def question_of(example: Example) -> str:
    """The customer question an answer responds to: the last user turn before it."""
    return _last_user_turn(example.prompt_messages)


class QualityScorer:
    """Scores examples with the MiniLM embedder, the router and a reward model.

    The reward comes from the cross-encoder when ``cross`` is given, else from the reward head
    over the question and answer embeddings.
    """

    def __init__(
        self,
        embedder: Embedder,
        router: RouterHead,
        reward: RewardHead,
        *,
        min_confidence: float | None = None,
        cross: CrossEncoderReward | None = None,
        quantiles: RewardQuantiles | None = None,
    ) -> None:
        self.embedder = embedder
        self.router = router
        self.reward = reward
        self.cross = cross
        self.min_confidence = min_confidence
        reward_version = cross.version if cross is not None else reward.version
        # A table ranks the rewards of the model it was built from; another model's scale differs.
        self.quantiles = quantiles if quantiles and quantiles.model == reward_version else None
        if quantiles is not None and self.quantiles is None:
            warn_once(
                "quantiles_stale",
                "reward_quantiles_for_another_model",
                table_model=quantiles.model,
                reward_model=reward_version,
                fix="run `winnow models reward-quantiles` for the current reward model",
            )
        self.model_versions = {
            "embedder": embedder.version,
            "router": router.version,
            "reward": cross.version if cross is not None else reward.version,
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
        cross = load_cross(settings, config)
        return cls(
            embedder,
            router,
            reward,
            min_confidence=settings.router_min_confidence,
            cross=cross,
            quantiles=RewardQuantiles.load(models_dir / REWARD_DIR / QUANTILES_FILE),
        )

    def reward_turns(
        self, contexts: Sequence[Sequence[ChatMessage]], responses: list[str]
    ) -> list[float]:
        """Reward in (0, 1) of each response given the turns before it (per-turn scoring).

        ``contexts[i]`` are the turns preceding ``responses[i]`` (system, user and assistant);
        the head sees only the last user turn, the cross-encoder every turn (cut from the left).
        """
        if not responses:
            return []
        if self.cross is not None:
            return [float(r) for r in self.cross.reward_turns(contexts, responses)]
        questions = [_last_user_turn(c) for c in contexts]
        texts = list(dict.fromkeys([*questions, *responses]))
        index = {t: i for i, t in enumerate(texts)}
        vectors = self.embedder.embed(texts).vectors
        q = vectors[[index[t] for t in questions]]
        a = vectors[[index[t] for t in responses]]
        return [float(r) for r in self.reward.reward(q, a)]

    def score_batch(self, examples: list[Example]) -> list[Example]:
        """Return scored copies, in input order, with scores, domain, flags and model versions."""
        if not examples:
            return []
        started = time.perf_counter()
        questions = [question_of(e) for e in examples]
        routed = [routing_text(e) for e in examples]
        answers = [e.answer for e in examples]
        rejected = [e.rejected if e.kind is ExampleKind.PREFERENCE else None for e in examples]
        turns = [judged_turns(e) for e in examples]
        turn_texts = [t for ts in turns for j in ts for t in (j.context, j.answer)]
        # Identical texts (a shared question, a repeated canned answer) are embedded once.
        extra = [*(r for r in rejected if r is not None), *turn_texts]
        texts = list(dict.fromkeys([*questions, *routed, *answers, *extra]))
        index = {t: i for i, t in enumerate(texts)}
        embedded = self.embedder.embed(texts)
        vec, cut = embedded.vectors, embedded.truncated
        q = vec[[index[t] for t in questions]]
        a = vec[[index[t] for t in answers]]
        relevance = np.clip((q * a).sum(axis=1), -1.0, 1.0)
        domains, confidences = self.router.route(
            vec[[index[t] for t in routed]], self.min_confidence
        )
        pref_rows = [i for i, r in enumerate(rejected) if r is not None]
        if self.cross is not None:
            contexts = [render_context(e.prompt_messages) for e in examples]
            both = self.cross.reward(
                [*contexts, *(contexts[i] for i in pref_rows)],
                [*answers, *(rejected[i] or "" for i in pref_rows)],
            )
            reward, reward_rejected = both[: len(examples)], both[len(examples) :]
        else:
            reward = self.reward.reward(q, a)
            reward_rejected = self.reward.reward(
                q[pref_rows], vec[[index[rejected[i] or ""] for i in pref_rows]]
            )
        rejected_reward = dict(zip(pref_rows, reward_rejected.tolist(), strict=True))
        per_turn = self._score_turns(examples, turns, vec, index)
        out: list[Example] = []
        for i, ex in enumerate(examples):
            scores = {
                **ex.scores,
                "reward": float(reward[i]),
                "relevance": float(relevance[i]),
                "domain_confidence": float(confidences[i]),
                **turn_summary(per_turn[i]),
            }
            domain = _producer_domain(ex, domains[i], scores)
            if self.quantiles is not None:
                scores["reward_quantile"] = self.quantiles.quantile(scores["reward"], domain)
            if i in rejected_reward:
                scores["reward_rejected"] = rejected_reward[i]
                scores["reward_margin"] = scores["reward"] - rejected_reward[i]
            rej = rejected[i]
            texts_of = [questions[i], answers[i], *([rej] if rej is not None else [])]
            texts_of += [t for j in turns[i] for t in (j.context, j.answer)]
            flags = list(ex.flags)
            if any(cut[index[t]] for t in texts_of) and TRUNCATED_FLAG not in flags:
                flags.append(TRUNCATED_FLAG)
            out.append(
                ex.model_copy(
                    update={
                        "scores": scores,
                        "turn_scores": per_turn[i],
                        "domain": domain,
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

    def _score_turns(
        self,
        examples: list[Example],
        turns: list[list[JudgedTurn]],
        vec: FloatArray,
        index: dict[str, int],
    ) -> list[list[TurnScore]]:
        """Reward and relevance of every judged turn, through the same models as whole examples.

        The cross-encoder reads every turn before the judged one; the head, the judged context.
        """
        flat = [j for ts in turns for j in ts]
        if not flat:
            return [[] for _ in turns]
        ctx = vec[[index[j.context] for j in flat]]
        ans = vec[[index[j.answer] for j in flat]]
        if self.cross is not None:
            before = [
                ex.messages[: j.index] for ex, ts in zip(examples, turns, strict=True) for j in ts
            ]
            rewards = self.cross.reward_turns(before, [j.answer for j in flat]).tolist()
        else:
            rewards = self.reward.reward(ctx, ans).tolist()
        relevances = np.clip((ctx * ans).sum(axis=1), -1.0, 1.0).tolist()
        scored = iter(zip(flat, rewards, relevances, strict=True))
        return [
            [
                TurnScore(index=j.index, reward=r, relevance=v)
                for j, r, v in (next(scored) for _ in ts)
            ]
            for ts in turns
        ]


def _producer_domain(example: Example, routed: str, scores: dict[str, float]) -> str:
    """The producer's mapped category when there is one (``WINNOW_CATEGORY_MAP``), else routed.

    Whether the router agrees goes into ``scores``: a metric of the router and a monitor
    signal (a producer whose categories drift from what the tickets say).
    """
    if example.domain is None:
        return routed
    scores["router_agrees"] = 1.0 if routed == example.domain else 0.0
    return example.domain


def turn_summary(turns: list[TurnScore]) -> dict[str, float]:
    """A conversation's quality from its judged turns: the mean (reward, relevance), the minimum.

    The mean, not the last turn: a ticket is as good as its answers on average, and the last
    turn is usually a goodbye. The minimum goes along so one bad answer can still be caught.
    """
    if not turns:
        return {}
    rewards = [t.reward for t in turns]
    return {
        "reward": float(np.mean(rewards)),
        "relevance": float(np.mean([t.relevance for t in turns])),
        "reward_min": float(min(rewards)),
        "turns_judged": float(len(turns)),
    }


def _last_user_turn(turns: Sequence[ChatMessage]) -> str:
    for message in reversed(turns):
        if message.role is Role.USER:
            return message.content
    # No user turn (a system prompt only): the prompt is still the best context we have.
    return "\n".join(m.content for m in turns)


def load_cross(settings: Settings, config: SessionConfig) -> CrossEncoderReward | None:
    """The cross-encoder when ``reward_model`` is ``cross`` and it is built; else ``None``."""
    models_dir = Path(settings.models_dir)
    if settings.reward_model != "cross":
        return None
    if not cross_available(models_dir):
        warn_once(
            "cross_missing",
            "cross_encoder_missing_using_head",
            fix="run `winnow models train reward-cross` or set WINNOW_REWARD_MODEL=head",
        )
        return None
    return CrossEncoderReward.load(models_dir, config, batch_max=settings.score_batch_max)


def session_config(settings: Settings) -> SessionConfig:
    """ONNX Runtime session settings from Winnow's settings."""
    return SessionConfig(
        providers=list(settings.ort_providers),
        intra_op_threads=settings.ort_intra_op_threads,
        inter_op_threads=settings.ort_inter_op_threads,
        graph_optimization=settings.ort_graph_optimization,
        log_severity=settings.ort_log_severity,
    )
