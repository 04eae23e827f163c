"""The MiniLM sentence embedder on ONNX Runtime, with length-bucketed batching.

Mean pooling and L2 normalisation are part of the exported graph, so one ``run`` returns unit
vectors and only ``batch x 384`` floats leave the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import structlog

from winnow.scoring.artefacts import (
    TOKENIZER,
    EmbedderManifest,
    Precision,
    embedder_dir,
    load_manifest,
    require_file,
)
from winnow.scoring.runtime import (
    SessionConfig,
    cuda_usable,
    import_ort,
    open_session,
    uses_cuda,
    wants_cuda,
    warn_once,
)
from winnow.scoring.tokenizer import Encoded, TextTokenizer

FloatArray = npt.NDArray[np.float32]


def _log() -> structlog.typing.FilteringBoundLogger:
    # A fresh proxy per call: a module-level one caches whatever stream logging was configured
    # with on first use (with ``cache_logger_on_first_use``), e.g. a test runner's closed stderr.
    return structlog.get_logger(__name__)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Embedded:
    """Unit-length embeddings in input order, and which inputs were truncated."""

    vectors: FloatArray
    truncated: list[bool]


class Embedder:
    """Tokenise, bucket by length, run the session, restore input order."""

    def __init__(
        self,
        session: Any,
        tokenizer: TextTokenizer,
        manifest: EmbedderManifest,
        precision: Precision,
        batch_max: int,
    ) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.manifest = manifest
        self.precision: Precision = precision
        self.batch_max = batch_max
        self.dim = manifest.dim
        self._inputs = {i.name for i in session.get_inputs()}

    @property
    def version(self) -> str:
        """``minilm-l6-v2:<precision>:<sha256 prefix>`` of the file this session runs."""
        return self.manifest.version(self.precision)

    @property
    def providers(self) -> list[str]:
        """The execution providers the session really uses, best first."""
        return list(self.session.get_providers())

    @classmethod
    def load(
        cls,
        models_dir: Path,
        config: SessionConfig,
        *,
        precision: Precision | None = None,
        max_tokens: int = 256,
        batch_max: int = 64,
    ) -> Embedder:
        """Open the embedder for the configured providers.

        ``precision=None`` picks fp16 when CUDA is asked for and works, else int8 on the CPU.
        CUDA asked for but unusable is logged once and never raises.
        """
        manifest = load_manifest(models_dir)
        folder = embedder_dir(models_dir)
        tokenizer = TextTokenizer(require_file(folder / TOKENIZER, "tokenizer"), max_tokens)
        cuda = wants_cuda(config) and cuda_usable(import_ort(config.log_severity))
        if wants_cuda(config) and not cuda:
            # No GPU here is the normal case on a laptop or a CPU node: said once, not a warning.
            warn_once(
                "cuda_unavailable", "cuda_unavailable_using_cpu", level="info", fallback="int8"
            )
        chosen: Precision = precision or ("fp16" if cuda else "int8")
        path = require_file(folder / manifest.files[chosen].path, f"embedder {chosen}")
        session = open_session(path, config, cuda=cuda)
        if cuda and not uses_cuda(session):
            # The driver loaded but the provider did not (CUDA/cuDNN libraries missing).
            warn_once("cuda_unavailable", "cuda_unavailable_using_cpu", fallback="int8")
            if precision is None:
                chosen = "int8"
                path = require_file(folder / manifest.files[chosen].path, "embedder int8")
            session = open_session(path, config, cuda=False)
        _log().info("embedder_loaded", precision=chosen, providers=session.get_providers())
        return cls(session, tokenizer, manifest, chosen, batch_max)

    def run(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> FloatArray:
        """One session call on a padded batch."""
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        out = self.session.run(None, feeds)[0]
        return np.asarray(out, dtype=np.float32)

    def buckets(self, encoded: list[Encoded]) -> list[list[int]]:
        """Indices of ``encoded`` grouped into length buckets, each cut into ``batch_max`` chunks.

        Bucket edges are powers of two (16, 32, 64, ...): a short question never pads up to a
        long answer's length, and attention cost (quadratic in length) is not spent on padding.
        """
        groups: dict[int, list[int]] = {}
        for i, enc in enumerate(encoded):
            edge = 16
            while edge < len(enc.ids):
                edge *= 2
            groups.setdefault(edge, []).append(i)
        chunks: list[list[int]] = []
        for edge in sorted(groups):
            members = sorted(groups[edge], key=lambda i: len(encoded[i].ids))
            chunks += [
                members[s : s + self.batch_max] for s in range(0, len(members), self.batch_max)
            ]
        return chunks

    def embed_encoded(self, encoded: list[Encoded]) -> FloatArray:
        """Embed pre-tokenised texts bucket by bucket; rows come back in input order."""
        vectors = np.zeros((len(encoded), self.dim), dtype=np.float32)
        for chunk in self.buckets(encoded):
            ids, mask = self.tokenizer.pad([encoded[i] for i in chunk])
            vectors[chunk] = self.run(ids, mask)
        return vectors

    def embed(self, texts: list[str]) -> Embedded:
        """Embed texts in input order, with per-text truncation flags."""
        encoded = self.tokenizer.encode(texts)
        return Embedded(self.embed_encoded(encoded), [e.truncated for e in encoded])
