"""GPU benchmark behind ``bench/gpu.sh``: CUDA fp16 scorer vs a bare CUDA session, same texts.

Runnable as ``python -m winnow.bench.gpu`` with only the scoring dependencies (pydantic,
pydantic-settings, structlog, numpy, tokenizers, onnxruntime-gpu): no faust, no store, no torch.
The shared datasets do not travel to a GPU machine, so texts are composed from the sample
sentences with a seeded generator, spread over every length bucket.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from winnow.bench import scorer as bench
from winnow.scoring import QualityScorer
from winnow.scoring.build.samples import _BASE, _LONG
from winnow.scoring.embedder import Embedder
from winnow.scoring.runtime import CPU, CUDA, SessionConfig
from winnow.settings import Settings


def synthetic_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (question, answer) pairs from 1-2 and 1-12 sample sentences: 5 to 256+ tokens."""
    rng = random.Random(seed)
    pool = [*_BASE, _LONG]
    # A ticket number makes every text unique: the scorer's de-duplication must not make it
    # look faster than the bare session.
    return [
        (
            f"Ticket {i}: " + " ".join(rng.choices(_BASE, k=rng.randint(1, 2))),
            f"Re {i}: " + " ".join(rng.choices(pool, k=rng.choice([1, 2, 3, 5, 8, 12]))),
        )
        for i in range(n)
    ]


class GpuSampler:
    """Samples ``nvidia-smi`` utilisation every 200 ms while it is open (if nvidia-smi exists)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> GpuSampler:
        if shutil.which("nvidia-smi"):
            self.proc = subprocess.Popen(
                [
                    "nvidia-smi",
                    "--query-gpu=utilization.gpu,memory.used",
                    "--format=csv,noheader,nounits",
                    "-lms",
                    "200",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        out = self.proc.communicate(timeout=5)[0]
        rows = [line.split(",") for line in out.splitlines() if line.count(",") == 1]
        util = [float(r[0]) for r in rows if r[0].strip().replace(".", "").isdigit()]
        mem = [float(r[1]) for r in rows if r[1].strip().replace(".", "").isdigit()]
        if util:
            print(
                f"# nvidia-smi: {len(util)} samples, GPU utilisation mean {np.mean(util):.0f}% "
                f"max {max(util):.0f}%, memory used max {max(mem):.0f} MiB"
            )


def _process_worker(
    mode: str,
    cuda: bool,
    models_dir: Path,
    batch: int,
    n: int,
    seed: int,
    repeat: int,
    barrier: Any,
    results: Any,
) -> None:
    """One scorer (or bare session) process: warm up, then timed runs started together."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    settings = Settings(models_dir=models_dir, ort_providers=[CUDA, CPU] if cuda else [CPU])
    scorer = QualityScorer.from_settings(settings)
    pairs = synthetic_pairs(n, seed)
    scorer.embedder.batch_max = batch * 2
    run = (
        bench.scorer_path(scorer, bench.make_examples(pairs), batch)
        if mode == "scorer"
        else bench.bare_bucketed(scorer, pairs, batch)
    )
    run()  # arenas, kernels
    for _ in range(repeat):
        barrier.wait()
        started = time.time()
        run()
        results.put((started, time.time(), n))


def multi_process_rate(
    mode: str, processes: int, *, cuda: bool, models_dir: Path, batch: int, n: int, repeat: int
) -> float:
    """Events/s of ``processes`` workers sharing the device, each scoring ``n`` events.

    Scorer replicas per GPU: the scorer is host-bound (tokenising, copies), so several processes
    keep one GPU busier than one process can. Best of ``repeat`` synchronised runs.
    """
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=_process_worker,
            args=(mode, cuda, models_dir, batch, n, seed, repeat, barrier, results),
        )
        for seed in range(processes)
    ]
    for w in workers:
        w.start()
    rows = [results.get(timeout=600) for _ in range(processes * repeat)]
    for w in workers:
        w.join(60)
    best = 0.0
    for r in range(repeat):
        run = rows[r * processes : (r + 1) * processes]
        wall = max(end for _, end, _ in run) - min(start for start, _, _ in run)
        best = max(best, sum(k for _, _, k in run) / wall)
    return best


def agreement_texts() -> list[str]:
    """The texts the fp16/int8 agreement is measured on (512, fixed)."""
    return [t for pair in synthetic_pairs(256) for t in pair]


def reference_vectors(models_dir: Path, texts: list[str]) -> np.ndarray:
    """fp32 CPU embeddings of ``texts``: the reference other precisions are checked against."""
    ref = Embedder.load(models_dir, SessionConfig(providers=[CPU]), precision="fp32")
    return ref.embed(texts).vectors


def agreement(
    scorer: QualityScorer, models_dir: Path, texts: list[str], reference: Path | None = None
) -> None:
    """Cosine of the running embedder to fp32 on the CPU (the reference), on ``texts``.

    ``reference`` is an ``.npy`` of those fp32 vectors computed elsewhere (``--save-reference``):
    the 90 MB fp32 model need not travel to the GPU machine.
    """
    if scorer.embedder.precision == "fp32" and CUDA not in scorer.embedder.providers:
        return
    if reference is not None:
        b = np.load(reference)
    else:
        try:
            b = reference_vectors(models_dir, texts)
        except Exception as exc:  # the fp32 file may not have been carried to the GPU machine
            print(f"# agreement: skipped ({exc})")
            return
    a = scorer.embedder.embed(texts).vectors
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    print(
        f"# agreement {scorer.embedder.precision} on {scorer.embedder.providers[0]} vs fp32 CPU: "
        f"cosine mean {cos.mean():.5f} min {cos.min():.5f} over {len(texts)} texts"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both paths per batch size and per length bucket, print tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--provider", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--examples", type=int, default=0, help="default: 16384 cuda, 512 cpu")
    parser.add_argument("--batch-sizes", default="", help="default: 32..1024 cuda, 32,128 cpu")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="ORT intra-op threads (0: all)")
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument(
        "--processes", default="", help="comma-separated process counts to also run, e.g. 1,2,4"
    )
    parser.add_argument("--skip-buckets", action="store_true", help="skip the per-bucket table")
    parser.add_argument("--reference", type=Path, help=".npy of fp32 CPU vectors to compare to")
    parser.add_argument(
        "--save-reference", type=Path, help="write the fp32 CPU vectors of the check texts and exit"
    )
    args = parser.parse_args(argv)
    if args.save_reference is not None:
        texts = agreement_texts()
        np.save(args.save_reference, reference_vectors(args.models_dir, texts))
        print(f"wrote {len(texts)} reference vectors to {args.save_reference}")
        return 0
    # Info and up: the scorer's per-batch debug lines would drown the tables.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    cuda = args.provider == "cuda"
    n = args.examples or (16384 if cuda else 512)
    sizes_arg = args.batch_sizes or ("32,64,128,256,512,1024" if cuda else "32,128")
    sizes = [int(s) for s in sizes_arg.split(",")]
    settings = Settings(
        models_dir=args.models_dir,
        ort_providers=[CUDA, CPU] if cuda else [CPU],
        ort_intra_op_threads=args.threads,
    )
    scorer = QualityScorer.from_settings(settings)
    emb = scorer.embedder
    print(f"# machine: {bench.machine()}")
    print(f"# embedder {emb.version} on {emb.providers}; {n} events per run, repeat {args.repeat}")
    if cuda and CUDA not in emb.providers:
        print("# WARNING: CUDA was asked for but the session runs on the CPU (see log above)")
    pairs = synthetic_pairs(n)
    started = time.perf_counter()
    with GpuSampler():
        print(
            "| batch | scorer events/s | bare ORT events/s | ratio | bare, same buckets | ratio |"
        )
        print("|---|---|---|---|---|---|")
        for size in sizes:
            s, b, bb = bench.compare(scorer, pairs, size, args.repeat)
            print(
                f"| {size} | {s.per_second:,.0f} | {b.per_second:,.0f} | "
                f"{s.per_second / b.per_second:.2f} | {bb.per_second:,.0f} | "
                f"{s.per_second / bb.per_second:.2f} |",
                flush=True,
            )
        texts = [t for pair in pairs for t in pair]
        if not args.skip_buckets:
            print("\n| batch | length bucket | embedder sentences/s |")
            print("|---|---|---|")
            for size in sizes:
                for rate in bench.by_bucket(scorer, texts, size, args.repeat):
                    print(f"| {size} | {rate.label} | {rate.per_second:,.0f} |", flush=True)
        if args.processes:
            size = max(sizes)
            print("\n| processes | batch | scorer events/s | bare bucketed events/s | ratio |")
            print("|---|---|---|---|---|")
            for procs in (int(p) for p in args.processes.split(",")):
                kw = dict(cuda=cuda, models_dir=args.models_dir, batch=size, n=n, repeat=2)
                s_rate = multi_process_rate("scorer", procs, **kw)
                b_rate = multi_process_rate("bare", procs, **kw)
                print(
                    f"| {procs} | {size} | {s_rate:,.0f} | {b_rate:,.0f} | {s_rate / b_rate:.2f} |",
                    flush=True,
                )
    print(f"# benchmark wall time {time.perf_counter() - started:.0f} s")
    # The same 512 texts as --save-reference, whatever --examples was.
    agreement(scorer, args.models_dir, agreement_texts(), args.reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
