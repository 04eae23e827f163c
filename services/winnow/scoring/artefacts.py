"""Where the model artefacts live and what the embedder manifest records.

Layout under ``WINNOW_MODELS_DIR`` (``models/`` by default):

- ``embedder/`` (built by ``winnow models build``, git-ignored): the MiniLM ONNX files in three
  precisions, ``tokenizer.json`` and ``manifest.json``;
- ``heads/`` (committed): ``router.onnx``, ``reward.onnx`` and their model cards;
- ``reward/`` (committed): the cross-encoder reward ``cross.int8.onnx`` (CPU), its
  ``tokenizer.json`` and model card ``cross.md``; ``cross.fp16.onnx`` (CUDA) is built by
  ``winnow models train reward-cross`` but git-ignored (see :mod:`winnow.scoring.cross`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from winnow.scoring.exceptions import ModelsNotBuiltError

Precision = Literal["fp32", "fp16", "int8"]

EMBEDDER_DIR = "embedder"
HEADS_DIR = "heads"
MANIFEST = "manifest.json"
TOKENIZER = "tokenizer.json"
HEAD_NAMES = ("router", "reward")


class TensorSpec(BaseModel):
    """One graph input or output."""

    name: str
    dtype: str
    shape: list[str | int]


class ArtefactFile(BaseModel):
    """One built file, with the hash that makes rebuilds skippable."""

    path: str
    sha256: str
    bytes: int
    precision: Precision | None = None
    provider: str | None = Field(None, description="The execution provider this file is for.")


class Agreement(BaseModel):
    """Cosine similarity of an exported model's embeddings to the PyTorch reference."""

    mean: float
    min: float
    threshold: float
    texts: int


class EmbedderManifest(BaseModel):
    """``models/embedder/manifest.json``: what was built, from what, and how well it agrees."""

    name: str = "all-MiniLM-L6-v2"
    source_package: str
    source_version: str
    weights_sha256: str
    opset: int
    max_tokens: int
    dim: int
    pooling: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    files: dict[str, ArtefactFile]
    agreement: dict[str, Agreement]
    built_with: dict[str, str]
    built_at: str

    def version(self, precision: Precision) -> str:
        """A short, stable version string for ``Example.model_versions``."""
        return f"minilm-l6-v2:{precision}:{self.files[precision].sha256[:12]}"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def embedder_dir(models_dir: Path) -> Path:
    """The folder of the built embedder."""
    return models_dir / EMBEDDER_DIR


def heads_dir(models_dir: Path) -> Path:
    """The folder of the committed heads."""
    return models_dir / HEADS_DIR


def head_path(models_dir: Path, name: str) -> Path:
    """The ONNX file of one head."""
    return heads_dir(models_dir) / f"{name}.onnx"


def load_manifest(models_dir: Path) -> EmbedderManifest:
    """Read the embedder manifest, or raise :class:`ModelsNotBuiltError` naming the fix."""
    path = embedder_dir(models_dir) / MANIFEST
    if not path.is_file():
        raise ModelsNotBuiltError(
            f"no embedder manifest at {path}: run `winnow models build` (needs the build extra)"
        )
    return EmbedderManifest.model_validate_json(path.read_text(encoding="utf-8"))


def require_file(path: Path, what: str) -> Path:
    """Return ``path`` if it exists, else raise :class:`ModelsNotBuiltError`."""
    if not path.is_file():
        hint = "winnow models build" if EMBEDDER_DIR in path.parts else "winnow models train"
        raise ModelsNotBuiltError(f"{what} missing at {path}: run `{hint}`")
    return path
