"""ONNX Runtime sessions: providers, threads and graph optimisation from settings.

ONNX Runtime is imported lazily so ``winnow --help`` stays instant. Asking for CUDA on a machine
without a usable GPU never crashes: the session silently lands on the CPU (ORT lists CUDA as
*available* whenever the GPU wheel is installed), so we check ``session.get_providers()`` and
log the fallback once per process.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import structlog


def _log() -> structlog.typing.FilteringBoundLogger:
    # A fresh proxy per call: a module-level one caches whatever stream logging was configured
    # with on first use (with ``cache_logger_on_first_use``), e.g. a test runner's closed stderr.
    return structlog.get_logger(__name__)  # type: ignore[no-any-return]


CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
GraphOptimization = Literal["disable", "basic", "extended", "all"]

_warned: set[str] = set()


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """How to open sessions; built from ``Settings`` by the scorer."""

    providers: list[str] = field(default_factory=lambda: [CUDA, CPU])
    intra_op_threads: int = 0
    inter_op_threads: int = 1
    graph_optimization: GraphOptimization = "all"
    log_severity: int = 3


def import_ort(log_severity: int = 3) -> Any:
    """Import onnxruntime with telemetry off and its C++ logger at ``log_severity``."""
    # Telemetry files would land in ~/.cache unless this is set before the first session.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime as ort

    ort.set_default_logger_severity(log_severity)
    # Older wheels lack disable_telemetry_events; the environment variable covers them.
    with contextlib.suppress(AttributeError):
        ort.disable_telemetry_events()
    return ort


def cuda_usable(ort: Any) -> bool:
    """Whether a CUDA session can work here: the provider is compiled in and a driver loads.

    Checking the driver first avoids ORT's own error lines on GPU-less machines.
    """
    if CUDA not in ort.get_available_providers():
        return False
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def warn_once(key: str, event: str, *, level: str = "warning", **kw: Any) -> None:
    """Log ``event`` (at ``level``, warning by default) the first time ``key`` is seen here."""
    if key in _warned:
        return
    _warned.add(key)
    getattr(_log(), level)(event, **kw)


def session_options(ort: Any, config: SessionConfig) -> Any:
    """SessionOptions with the configured threads and graph optimisation level."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = config.intra_op_threads
    opts.inter_op_num_threads = config.inter_op_threads
    opts.graph_optimization_level = {
        "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[config.graph_optimization]
    opts.log_severity_level = config.log_severity
    return opts


def wants_cuda(config: SessionConfig) -> bool:
    """Whether CUDA comes before the CPU in the configured provider order."""
    return bool(config.providers) and config.providers[0] == CUDA


def open_session(path: Path, config: SessionConfig, *, cuda: bool) -> Any:
    """Open one InferenceSession; ``cuda`` picks CUDA-then-CPU, else CPU only.

    Returns the session; callers read ``session.get_providers()`` for what it really uses.
    """
    ort = import_ort(config.log_severity)
    providers = [CUDA, CPU] if cuda else [CPU]
    return ort.InferenceSession(
        str(path), sess_options=session_options(ort, config), providers=providers
    )


def uses_cuda(session: Any) -> bool:
    """Whether a session really runs on CUDA (ORT falls back silently)."""
    return CUDA in session.get_providers()
