#!/usr/bin/env bash
# Train the cross-encoder reward on a GPU machine, then export it where the CPU is (issue 16).
#
#   OUT=/tmp/out bash bench/train_reward_gpu.sh           # on the GPU machine, from the repo root
#   winnow models train reward-cross --run <fetched OUT>  # back here: export, check, replace if better
#
# Needs the project installed with the build extra (torch with CUDA, transformers, safetensors)
# and the MiniLM weights package (see pyproject.toml); writes the run into $OUT: reward.part0..3
# (fp16 weights in < 15 MB chunks), config.json, metrics.json. Budget: 6 minutes of training
# (8 epochs, length 256, batch 64, bf16), then validation/test on every pair.
set -euo pipefail
: "${OUT:?OUT must be set}"
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader || true
PYTHONPATH=services python3 - <<'PY'
import os, time
from pathlib import Path
from winnow.scoring.build.export import weights_dir
from winnow.scoring.build.reward_job import CrossJob, load_splits, train_run

started = time.monotonic()
job = CrossJob(data_root=Path(os.environ.get("DATA_ROOT", "../shared/data")), models_dir=Path("models"),
               work_dir=Path(os.environ["OUT"]) / "work", base=weights_dir(), device="cuda",
               max_minutes=float(os.environ.get("MAX_MINUTES", "6")),
               command="OUT=$OUT bash bench/train_reward_gpu.sh")
log = lambda m: print(f"[{time.monotonic() - started:6.0f}s] {m}", flush=True)
train_run(job, load_splits(job, log), Path(os.environ["OUT"]), log)
PY
rm -rf "$OUT/work"
ls -la "$OUT"
