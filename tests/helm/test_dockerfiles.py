"""Static checks of the container build files (no Docker engine runs here: read, not built)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .chartlib import REPO

DOCKERFILES = {"cpu": REPO / "infra" / "Dockerfile", "gpu": REPO / "infra" / "Dockerfile.gpu"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def arg_defaults(path: Path) -> dict[str, str]:
    """Default values of the ARG instructions."""
    return {
        name: value.strip("\"'")
        for kw, rest in instructions(path)
        if kw == "ARG" and "=" in rest
        for name, _, value in [rest.partition("=")]
    }


def base_images(path: Path) -> list[str]:
    """Every FROM image with ARG defaults substituted, stage references and scratch excluded."""
    defaults = arg_defaults(path)
    stages: set[str] = set()
    images = []
    for kw, rest in instructions(path):
        if kw != "FROM":
            continue
        parts = rest.split()
        image = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], parts[0])
        if image not in stages and image != "scratch":
            images.append(image)
        if len(parts) == 3 and parts[1].upper() == "AS":
            stages.add(parts[2])
    return images


@pytest.mark.parametrize("variant", sorted(DOCKERFILES))
class TestDockerfiles:
    """Both images: multi-stage, pinned, non-root."""

    def test_base_images_are_pinned_versions_never_latest(self, variant: str) -> None:
        """Every base image has an explicit version tag with digits (or a digest), never latest."""
        images = base_images(DOCKERFILES[variant])
        assert images
        for image in images:
            assert re.search(
                r":[^:/@]*\d[^:/@]*(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$", image
            ), image
            assert ":latest" not in image, image

    def test_final_stage_runs_as_non_root_numeric_user(self, variant: str) -> None:
        """The last USER is a numeric non-zero UID:GID matching the chart's runAsUser 10001."""
        users = [rest for kw, rest in instructions(DOCKERFILES[variant]) if kw == "USER"]
        assert users[-1] == "10001:10001"
        text = DOCKERFILES[variant].read_text()
        assert "useradd --system --uid 10001" in text

    def test_is_multi_stage_with_a_models_stage(self, variant: str) -> None:
        """The runtime stage copies the venv from a build stage and the models from the `models`
        stage (overridable with --build-context), without a model hub download."""
        ins = instructions(DOCKERFILES[variant])
        froms = [rest for kw, rest in ins if kw == "FROM"]
        assert len(froms) >= 3
        copies = [rest for kw, rest in ins if kw == "COPY"]
        assert "--from=build /opt/venv /opt/venv" in copies
        assert "--from=models / /app/models/" in copies
        text = DOCKERFILES[variant].read_text().lower()
        assert "huggingface" not in text
        assert "hf_hub" not in text

    def test_runtime_env_matches_the_chart(self, variant: str) -> None:
        """The image listens where the chart probes (0.0.0.0:6066), keeps state in /data and
        turns off ONNX Runtime telemetry."""
        text = DOCKERFILES[variant].read_text()
        for setting in (
            "WINNOW_WEB_HOST=0.0.0.0",
            "WINNOW_WEB_PORT=6066",
            "WINNOW_DATA_DIR=/data",
            "ORT_DISABLE_TELEMETRY=1",
        ):
            assert setting in text
        assert [
            e.strip('[]" ') for kw, e in instructions(DOCKERFILES[variant]) if kw == "ENTRYPOINT"
        ] == ["winnow"]

    def test_dependencies_are_installed_with_constraints(self, variant: str) -> None:
        """Dependencies install under infra/constraints.txt, which pins each line to one version."""
        assert "--constraint infra/constraints.txt" in DOCKERFILES[variant].read_text()
        pins = [
            line
            for line in (REPO / "infra" / "constraints.txt").read_text().splitlines()
            if line and not line.startswith("#")
        ]
        assert pins
        assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.+!-]+", p) for p in pins), pins


def test_cpu_image_swaps_in_the_cpu_onnxruntime() -> None:
    """The CPU image replaces onnxruntime-gpu by the pinned CPU wheel and names the CPU provider."""
    text = DOCKERFILES["cpu"].read_text()
    assert "pip uninstall --yes onnxruntime-gpu" in text
    assert arg_defaults(DOCKERFILES["cpu"])["ONNXRUNTIME_VERSION"] == "1.31.1"
    assert """WINNOW_ORT_PROVIDERS='["CPUExecutionProvider"]'""" in text


def test_gpu_base_matches_the_cuda_major_onnxruntime_gpu_links() -> None:
    """The GPU base image's CUDA major is the one the pinned onnxruntime-gpu build links against."""
    cuda_image = arg_defaults(DOCKERFILES["gpu"])["CUDA_IMAGE"]
    match = re.fullmatch(r"nvidia/cuda:(\d+)\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+", cuda_image)
    assert match, cuda_image
    pins = (REPO / "infra" / "constraints.txt").read_text()
    assert "onnxruntime-gpu==1.31.1" in pins
    ort = pytest.importorskip("onnxruntime")
    provider = Path(ort.__file__).parent / "capi" / "libonnxruntime_providers_cuda.so"
    if not provider.exists():
        pytest.skip("onnxruntime-gpu is not the installed onnxruntime")
    assert f"libcudart.so.{match.group(1)}".encode() in provider.read_bytes()


def test_dockerignore_is_an_allow_list() -> None:
    """.dockerignore excludes everything, then lets in only what the images need."""
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert allowed == {
        "pyproject.toml",
        "README.md",
        "services/",
        "infra/constraints.txt",
        "models/",
    }
    assert "**/__pycache__/" in lines
