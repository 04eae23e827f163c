#!/usr/bin/env bash
# GPU benchmark: the Winnow scorer with the CUDA fp16 embedder vs a bare ONNX Runtime CUDA
# session on the same texts, by batch size (32..1024) and length bucket; events/s, their ratio,
# fp16-vs-fp32 cosine agreement and nvidia-smi utilisation. Goal: >= 20,000 events/s on one
# H100/H200.
#
#   bash bench/gpu.sh            # CUDA (needs onnxruntime-gpu and an NVIDIA driver)
#   bash bench/gpu.sh --cpu      # the same script on the CPU (int8), as a check anywhere
#   bash bench/gpu.sh --examples 4096 --batch-sizes 64,256   # extra args go to the benchmark
#
# Needs, from the repository root (no virtualenv required; any Python >= 3.11):
# - models/embedder/ built by `winnow models build` (CUDA mode needs minilm.fp16.onnx,
#   tokenizer.json and manifest.json; the fp32 file too for the agreement line), models/heads/.
# - Python packages: numpy, tokenizers, pydantic, pydantic-settings, python-dotenv,
#   annotated-types, typing-inspection, structlog, and onnxruntime-gpu (CUDA) or onnxruntime.
#   Missing ones can come as wheels in $WINNOW_WHEELS (default .whl/): they are installed with
#   --no-index into a private folder first. `bash bench/gpu-wheels.sh` fills .whl/ for
#   Python 3.12 (the GPU image's) from PyPI on a machine that has network access.
# - Environment: PYTHON (default python3), WINNOW_WHEELS.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

provider=cuda
if [[ "${1:-}" == "--cpu" ]]; then
  provider=cpu
  shift
fi
py="${PYTHON:-python3}"
wheels="${WINNOW_WHEELS:-.whl}"

if compgen -G "$wheels/*.whl" >/dev/null; then
  site="${TMPDIR:-/tmp}/winnow-bench-site"
  echo "# installing wheels from $wheels into $site"
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" "$wheels"/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$root/services${PYTHONPATH:+:$PYTHONPATH}"
export ORT_DISABLE_TELEMETRY=1
export PYTHONUNBUFFERED=1

# Fail early, naming what is missing, rather than deep inside the benchmark.
"$py" - "$provider" <<'PY'
import importlib.util, sys
missing = [m for m in ("numpy", "tokenizers", "pydantic", "pydantic_settings", "structlog",
                       "onnxruntime") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"missing Python packages: {', '.join(missing)} (see the header of bench/gpu.sh)")
import onnxruntime as ort
print(f"# python {sys.version.split()[0]}, onnxruntime {ort.__version__}, "
      f"providers {ort.get_available_providers()}")
if sys.argv[1] == "cuda" and "CUDAExecutionProvider" not in ort.get_available_providers():
    sys.exit("onnxruntime has no CUDAExecutionProvider: install onnxruntime-gpu "
             "(uninstall the CPU onnxruntime first), or run with --cpu")
PY

for f in models/embedder/manifest.json models/embedder/tokenizer.json models/heads/router.onnx \
         models/heads/reward.onnx; do
  [[ -f "$f" ]] || { echo "missing $f: run 'winnow models build' (and carry models/)" >&2; exit 1; }
done

if [[ "$provider" == cuda ]] && command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi

exec "$py" -m winnow.bench.gpu --provider "$provider" "$@"
