"""Test helpers for code that scores examples: make sure the models exist.

The embedder is built on demand (needs the ``build`` extra and the model wheel); when it cannot
be, the error says exactly what to install instead of skipping silently.
"""

from __future__ import annotations

from pathlib import Path

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
