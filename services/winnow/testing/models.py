"""Test helpers for code that scores examples: make sure the models exist, build examples.

The embedder is built on demand (needs the ``build`` extra and the model wheel); when it cannot
be, the error says exactly what to install instead of skipping silently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from winnow.events import ChatMessage, Role
from winnow.example import Example, ExampleKind, SourceRef, example_id
from winnow.scoring.artefacts import HEAD_NAMES, head_path
from winnow.scoring.exceptions import ModelsNotBuiltError


def ensure_models(models_dir: Path, max_tokens: int = 256) -> Path:
    """Build the embedder if absent and check the committed heads are there; return the dir."""
    from winnow.scoring.build.build import build_embedder, is_built

    if not is_built(models_dir, max_tokens):
        build_embedder(models_dir, max_tokens=max_tokens)
    for name in HEAD_NAMES:
        if not head_path(models_dir, name).is_file():
            raise ModelsNotBuiltError(f"committed head missing: {head_path(models_dir, name)}")
    return models_dir


def make_example(
    question: str,
    answer: str,
    *,
    rejected: str | None = None,
    tenant: str = "test",
    history: list[tuple[Role, str]] | None = None,
) -> Example:
    """An SFT example (or a preference one when ``rejected`` is given) for a question/answer."""
    msgs = [ChatMessage(role=r, content=c) for r, c in history or []]
    msgs.append(ChatMessage(role=Role.USER, content=question))
    kind = ExampleKind.SFT if rejected is None else ExampleKind.PREFERENCE
    chosen = None
    if rejected is None:
        msgs.append(ChatMessage(role=Role.ASSISTANT, content=answer))
    else:
        chosen = answer
    return Example(
        id=example_id(tenant=tenant, kind=kind, messages=msgs, chosen=chosen, rejected=rejected),
        kind=kind,
        tenant=tenant,
        messages=msgs,
        chosen=chosen,
        rejected=rejected,
        provenance="human_agent",
        source=SourceRef(
            event_id=f"evt-{abs(hash((question, answer))) % 10**8}", event_type="test"
        ),
        event_time=datetime.now(UTC),
    )
