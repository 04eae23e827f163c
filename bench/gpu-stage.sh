#!/usr/bin/env bash
# Stage the GPU benchmark's inputs over several device calls, then run bench/gpu.sh.
#
# A device call carries at most 64 MiB, and the onnxruntime-gpu wheel alone is 256 MB. So:
#   split -b 50M -d onnxruntime_gpu-*.whl .gpu/ort.     # here, once (bench/gpu-wheels.sh fetches it)
#   bash bench/gpu-stage.sh stash        # on the device, once per call, carrying .gpu/ort.NN,
#                                        # .gpu/wheels, .gpu/ref.npy, models/embedder/* in turn
#   bash bench/gpu-stage.sh run [--cpu] [gpu.sh args]   # join, verify, install, benchmark
# .gpu/ref.npy holds fp32 CPU vectors of the agreement texts, made here with
#   python -m winnow.bench.gpu --save-reference .gpu/ref.npy
# so the 90 MB fp32 model need not travel. Everything lands in $WINNOW_GPU_STAGE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stage="${WINNOW_GPU_STAGE:-/tmp/winnow-gpu}"
mkdir -p "$stage/wheels" "$stage/embedder"

case "${1:-}" in
stash)
  for f in .gpu/ort.[0-9]* .gpu/ort.sha256 .gpu/ref.npy; do
    if [[ -f "$f" ]]; then cp "$f" "$stage/"; fi
  done
  if compgen -G ".gpu/wheels/*.whl" >/dev/null; then cp .gpu/wheels/*.whl "$stage/wheels/"; fi
  for f in models/embedder/*; do
    if [[ -f "$f" ]]; then cp "$f" "$stage/embedder/"; fi
  done
  ls -la "$stage" "$stage/embedder" | sed 's/^/# /'
  ;;
run)
  shift
  if compgen -G "$stage/ort.[0-9]*" >/dev/null; then
    whl="$stage/wheels/onnxruntime_gpu-1.31.1-cp312-cp312-manylinux_2_28_x86_64.whl"
    cat "$stage"/ort.[0-9]* >"$whl"
    echo "$(cat "$stage/ort.sha256")  $whl" | sha256sum -c -
  fi
  mkdir -p models/embedder
  cp -n "$stage"/embedder/* models/embedder/ 2>/dev/null || true
  # onnxruntime-gpu 1.31 links CUDA 13 and cuDNN 9: the image has them as NVIDIA's pip packages.
  py="${PYTHON:-python3}"
  libs="$("$py" - <<'PY'
import glob, os, sys
dirs = set()
for site in sys.path:
    for so in glob.glob(os.path.join(site, "nvidia", "**", "lib*.so*"), recursive=True):
        dirs.add(os.path.dirname(so))
print(":".join(sorted(dirs)))
PY
)"
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}:/usr/local/cuda/lib64"
  ref=()
  if [[ -f "$stage/ref.npy" ]]; then ref=(--reference "$stage/ref.npy"); fi
  WINNOW_WHEELS="${WINNOW_WHEELS:-$stage/wheels}" bash bench/gpu.sh "$@" "${ref[@]}"
  ;;
*)
  echo "usage: $0 stash | run [--cpu] [gpu.sh args]" >&2
  exit 2
  ;;
esac
