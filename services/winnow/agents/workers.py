"""Several scorer processes behind one health and metrics endpoint (``WINNOW_SCORER_WORKERS``).

The scorer is host-bound on a GPU: one process tokenises and copies while the GPU idles (18%
utilisation on an H200). Processes sharing the GPU scale it: 1 -> 10.5k, 4 -> 23.1k, 8 -> 31.9k
events/s (docs/benchmarks.md). Each worker is an ordinary ``winnow serve scorer`` in the same
consumer group; this parent restarts those that die and answers the pod's probes for all of them.
Metrics use prometheus_client's multiprocess mode, summed across workers.
"""

from __future__ import annotations

import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from winnow.agents.supervisor import Supervisor, http_ok
from winnow.settings import Settings

log = structlog.get_logger(__name__)


def _handler(group: Supervisor, metrics_dir: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                registry = CollectorRegistry()
                MultiProcessCollector(registry, path=metrics_dir)  # type: ignore[no-untyped-call]
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path in ("/healthz", "/readyz"):
                checks = {
                    f"{c.name}-{i}": c.proc is not None
                    and c.proc.poll() is None
                    and http_ok(f"http://127.0.0.1:{c.port}{self.path}")
                    for i, c in enumerate(group.children)
                }
                ok = all(checks.values())
                body = "ok" if ok else f"failing: {[k for k, v in checks.items() if not v]}"
                self._send(200 if ok else 503, body.encode(), "text/plain")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:  # probes every few seconds: no access log
            return

    return Handler


def run_worker_group(service: str, settings: Settings, workers: int) -> None:
    """Run ``workers`` processes of ``service`` until SIGTERM/SIGINT; serve their probes."""
    from winnow.agents.supervisor import stop_on_signals

    stop_on_signals()
    metrics_dir = tempfile.mkdtemp(prefix="winnow-metrics-")
    env = {
        "WINNOW_SCORER_WORKERS": "1",
        "WINNOW_WEB_HOST": "127.0.0.1",
        # Set before the children import prometheus_client: they write per-process files here.
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }
    group = Supervisor(
        settings, services=(service,) * workers, embedded_broker=False, extra_env=env, prepare=False
    )
    server = ThreadingHTTPServer(
        (settings.web_host, settings.web_port), _handler(group, metrics_dir)
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log.info("worker_group_started", service=service, workers=workers, port=settings.web_port)
    try:
        with group:
            group.run_forever()
    finally:
        server.shutdown()
        for name in os.listdir(metrics_dir):
            os.unlink(os.path.join(metrics_dir, name))
        os.rmdir(metrics_dir)
