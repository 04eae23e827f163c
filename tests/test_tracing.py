"""Tracing set-up from the standard OTEL_* variables: off by default, one-line errors, W3C headers.

The trace across the pipeline itself is tests/integration/test_tracing.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from winnow import tracing
from winnow.errors import ConfigurationError


class TestExporterNames:
    @pytest.mark.parametrize(
        ("env", "names"),
        [
            ({}, []),
            ({"OTEL_TRACES_EXPORTER": "none"}, []),
            ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
            ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
            ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
            (
                {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"},
                [],
            ),
            ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, []),
        ],
    )
    def test_tracing_is_on_only_when_asked(self, env: dict[str, str], names: list[str]) -> None:
        """Nothing set means no tracing (unlike the SDK's own otlp default); an endpoint alone
        means otlp; none and OTEL_SDK_DISABLED turn it off."""
        assert tracing.exporter_names(env) == names

    def test_nothing_set_installs_nothing(self) -> None:
        """configure_tracing with an empty environment leaves tracing off."""
        assert tracing.configure_tracing("winnow-test", {}) is False
        assert not tracing.enabled()

    def test_a_missing_exporter_is_one_line_naming_the_package(self) -> None:
        """OTLP without its exporter package is a ConfigurationError that says what to install."""
        env = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
        with pytest.raises(ConfigurationError, match="pip install opentelemetry-exporter-otlp-pro"):
            tracing.configure_tracing("winnow-test", env)
        with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
            tracing.configure_tracing("winnow-test", {**env, "OTEL_EXPORTER_OTLP_PROTOCOL": "x"})
        assert not tracing.enabled()


def _events(headers: list[tuple[str, bytes]]) -> list[SimpleNamespace]:
    msg = SimpleNamespace(topic="winnow.sources.tickets", partition=0, offset=7, headers=headers)
    return [SimpleNamespace(message=msg)]


class TestOff:
    def test_batches_make_no_spans_and_no_headers(self) -> None:
        """While tracing is off a batch gets the shared no-op trace: nothing to pay per record."""
        trace = tracing.BatchTrace.start("validator", _events([]))
        assert trace is tracing.OFF
        assert trace.headers(0) == []
        with trace.span("store write", attributes={}):
            pass
        with tracing.producing([("t", "id-1")]) as headers:
            assert headers == [[]]


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Spans into memory for one test."""
    found = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(found))
    tracing.use_tracer_provider(provider)
    yield found
    tracing.use_tracer_provider(None)


class TestHeaders:
    def test_record_span_continues_the_w3c_context_of_its_record(
        self, exporter: InMemorySpanExporter
    ) -> None:
        """A record carrying ``traceparent`` gets its span in that trace; what is produced from
        it carries the record span's context on; a record without one starts a trace."""
        parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        trace = tracing.BatchTrace.start("scorer", _events([("traceparent", parent.encode())]))
        out = dict(trace.headers(0))["traceparent"].decode().split("-")
        trace.end()
        record, batch = exporter.get_finished_spans()
        assert f"{record.context.trace_id:032x}" == out[1] == parent.split("-")[1]
        assert f"{record.context.span_id:016x}" == out[2]
        assert batch.context.trace_id != record.context.trace_id  # the batch is its own trace
        assert batch.attributes is not None and batch.attributes["winnow.service"] == "scorer"
        exporter.clear()
        orphan = tracing.BatchTrace.start("scorer", _events([]))
        orphan.end()
        record, batch = exporter.get_finished_spans()
        assert record.parent is None and batch.links[0].context == record.context


# No OTEL_* of the caller's: only what the interpreter needs to import winnow.
_BARE_ENV = {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOME", "PATH")}


def test_console_exporter_names_the_service() -> None:
    """OTEL_TRACES_EXPORTER=console in a fresh process: spans carry service.name winnow-<service>
    unless OTEL_SERVICE_NAME says otherwise."""
    code = (
        "from winnow import tracing\n"
        "assert tracing.configure_tracing('winnow-validator')\n"
        "tracing.tracer().start_span('probe').end()\n"
    )
    for env, name in (({}, "winnow-validator"), ({"OTEL_SERVICE_NAME": "mine"}, "mine")):
        run = subprocess.run(
            [sys.executable, "-c", code],
            env={**_BARE_ENV, "OTEL_TRACES_EXPORTER": "console", **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        # Unconfigured structlog prints its tracing_on line first, on stdout too.
        span = json.loads(run.stdout[run.stdout.index("\n{") :])
        assert span["name"] == "probe"
        assert span["resource"]["attributes"]["service.name"] == name


_OTLP_PROBE = """
import os, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
got = []
class Collector(BaseHTTPRequestHandler):
    def do_POST(self):
        got.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = HTTPServer(("127.0.0.1", 0), Collector)
threading.Thread(target=server.serve_forever, daemon=True).start()
os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{server.server_port}"
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from winnow import tracing
assert tracing.configure_tracing("winnow-curator")
tracing.tracer().start_span("probe").end()
trace.get_tracer_provider().force_flush()
path, body = got[0]
spans = ExportTraceServiceRequest.FromString(body).resource_spans[0]
name = [a.value.string_value for a in spans.resource.attributes if a.key == "service.name"]
print(path, name[0], spans.scope_spans[0].spans[0].name)
"""


def test_an_otlp_endpoint_alone_exports_over_http() -> None:
    """With the `otel` extra installed, OTEL_EXPORTER_OTLP_ENDPOINT alone sends spans as OTLP
    over HTTP to `<endpoint>/v1/traces` (a stand-in collector in a fresh process)."""
    pytest.importorskip(
        "opentelemetry.exporter.otlp.proto.http", reason="the `otel` extra is not installed"
    )
    run = subprocess.run(
        [sys.executable, "-c", _OTLP_PROBE],
        env=_BARE_ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout.splitlines()[-1] == "/v1/traces winnow-curator probe"
