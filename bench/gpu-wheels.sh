#!/usr/bin/env bash
# Download the wheels bench/gpu.sh needs on the GPU image (Python 3.12, x86-64, no network
# there) into .whl/. Run on a machine with PyPI access, from the repository root.
# onnxruntime-gpu (~256 MB) is left out unless ORT_GPU=1: it is larger than some transfer limits.
set -euo pipefail
dest="${1:-.whl}"
# Resolved with their dependencies (pydantic-core must match pydantic's exact pin).
pkgs=("pydantic>=2.13,<3" "pydantic-settings>=2.14,<3" "structlog>=25.1")
[[ "${ORT_GPU:-0}" == 1 ]] && pkgs+=(onnxruntime-gpu==1.31.1)
python3 -m pip download --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$dest" "${pkgs[@]}"
ls -la "$dest"
