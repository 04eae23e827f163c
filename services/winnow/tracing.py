"""OpenTelemetry traces across the pipeline, off unless the standard ``OTEL_*`` variables ask.

How one event is followed (docs/deploy.md, "Tracing"):

- the gateway continues the caller's W3C ``traceparent`` (or starts a trace) in a SERVER span per
  request, and opens a PRODUCER ``create <topic>`` span per accepted event, whose context goes
  into that Kafka record's ``traceparent`` / ``tracestate`` headers;
- every consuming service opens, per batch, a CONSUMER ``process <topic>`` span. A batch mixes
  events of many traces, so that span is the root of its own trace and links to each record's
  context (the OpenTelemetry messaging conventions for batch processing). Per record it opens a
  ``process <topic>`` span in the record's own trace (a child of the context in the record's
  headers, or a new root when it has none) that lasts the batch and links back to the batch span.
  What a service produces from a record carries that record span's context on;
- the curator's store write is a CLIENT span under the batch span, mirrored in each record's
  trace under its record span.

So one event's trace reads gateway → validator → scorer → curator → store, each batch's trace
shows what the batch really cost, and links join the two views. The stages know nothing of this:
only the adapters (agents, gateway) call this module. With tracing off (the default) every call
returns at once without touching OpenTelemetry.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import Any, Final, Protocol

import structlog
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer

from winnow.errors import ConfigurationError
from winnow.example import Example

log = structlog.get_logger(__name__)

Headers = list[tuple[str, bytes]]
_KAFKA: Final = {"messaging.system": "kafka"}
_EXPORTER_GROUP: Final = "opentelemetry_traces_exporter"
_OTLP_BY_PROTOCOL: Final = {
    "http/protobuf": "otlp_proto_http",
    "http/json": "otlp_proto_http",
    "grpc": "otlp_proto_grpc",
}
_OTLP_PACKAGE: Final = {
    "otlp_proto_http": "pip install 'winnow-flywheel[otel]'",
    "otlp_proto_grpc": "pip install opentelemetry-exporter-otlp-proto-grpc",
}

_tracer: Tracer | None = None
"""Winnow's tracer; None while tracing is off."""


def exporter_names(env: Mapping[str, str] = os.environ) -> list[str]:
    """The span exporters the environment asks for; empty means tracing stays off.

    ``OTEL_SDK_DISABLED=true`` wins; else ``OTEL_TRACES_EXPORTER`` (comma-separated, ``none``
    ignored); else ``otlp`` when an OTLP endpoint is set. Unlike the SDK's own default (``otlp``),
    nothing set means no tracing: a service must not try to reach a collector nobody runs.
    """
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n and n != "none"]
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    if not names and "OTEL_TRACES_EXPORTER" not in env and endpoint:
        names = ["otlp"]
    return names


def _entry_point_name(name: str, env: Mapping[str, str]) -> str:
    if name != "otlp":
        return name
    # The OpenTelemetry spec's default protocol is http/protobuf (the Python SDK's is grpc).
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol not in _OTLP_BY_PROTOCOL:
        raise ConfigurationError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not one of {sorted(_OTLP_BY_PROTOCOL)}"
        )
    return _OTLP_BY_PROTOCOL[protocol]


def _exporter(name: str, env: Mapping[str, str]) -> Any:
    """A span exporter by its entry-point name (``console``, ``otlp``, or any installed one)."""
    point = _entry_point_name(name, env)
    found = list(entry_points(group=_EXPORTER_GROUP, name=point))
    if not found:
        fix = _OTLP_PACKAGE.get(point, f"install a package that provides {point!r}")
        raise ConfigurationError(
            f"tracing asks for the {name!r} span exporter ({point}), which is not installed: "
            f"{fix}, or unset OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT"
        )
    return found[0].load()()  # exporters read their own OTEL_EXPORTER_* variables


def configure_tracing(service: str, env: Mapping[str, str] = os.environ) -> bool:
    """Install the SDK's tracer provider when the environment asks for traces; True if it did.

    ``service`` names the process (``service.name``) unless ``OTEL_SERVICE_NAME`` or
    ``OTEL_RESOURCE_ATTRIBUTES`` does. Sampling (``OTEL_TRACES_SAMPLER``), batching
    (``OTEL_BSP_*``) and limits (``OTEL_SPAN_*``) are the SDK's own variables. Raises
    ``ConfigurationError`` when an asked-for exporter is not installed.
    """
    names = exporter_names(env)
    if not names:
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporters = [_exporter(n, env) for n in names]
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service}))
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # for libraries that trace through the global API
    use_tracer_provider(provider)
    log.info("tracing_on", exporters=names, service=resource.attributes.get(SERVICE_NAME))
    return True


def use_tracer_provider(provider: trace.TracerProvider | None) -> None:
    """Trace through ``provider`` (None: tracing off). Tests pass one with an in-memory exporter."""
    global _tracer
    _tracer = None if provider is None else provider.get_tracer("winnow")


def enabled() -> bool:
    """True while spans are recorded."""
    return _tracer is not None


def context_from_headers(headers: Iterable[tuple[str, Any]] | None) -> Context | None:
    """The trace context in Kafka record (or HTTP) headers, or None when they carry none."""
    carrier: dict[str, str] = {}
    for key, value in headers or ():
        text = value if isinstance(value, str) else bytes(value or b"").decode("utf-8", "replace")
        carrier[key.lower()] = text
    ctx = propagate.extract(carrier)
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


def headers_of(span: Span) -> Headers:
    """Kafka record headers (``traceparent``, ``tracestate``) that carry ``span``'s context."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return [(k, v.encode()) for k, v in carrier.items()]


def example_key(example: Example) -> tuple[str | None, int | None, int | None, int, str]:
    """What names one example across the hops: its source record and its place in the fan-out."""
    s = example.source
    return (s.topic, s.partition, s.offset, s.index, s.event_id)


class _Message(Protocol):
    topic: str
    partition: int
    offset: int
    headers: Any


class _Event(Protocol):
    @property
    def message(self) -> _Message: ...


class BatchTrace:
    """The spans of one consumed batch; :data:`OFF` (tracing off) does nothing."""

    def __init__(self, batch: Span | None = None, records: Sequence[Span] = ()) -> None:
        self._batch = batch
        self._records = list(records)
        self._by_example: dict[tuple[Any, ...], int] = {}

    @classmethod
    def start(cls, service: str, events: Sequence[_Event]) -> BatchTrace:
        """Open the batch span and one span per record (in the record's own trace)."""
        if _tracer is None:
            return OFF
        topics = sorted({e.message.topic for e in events})
        where = topics[0] if len(topics) == 1 else ",".join(topics)
        batch = _tracer.start_span(
            f"process {where}",
            context=Context(),  # a root: the batch's records come from many traces
            kind=SpanKind.CONSUMER,
            attributes={
                **_KAFKA,
                "messaging.operation.type": "process",
                "messaging.destination.name": where,
                "messaging.batch.message_count": len(events),
                "winnow.service": service,
            },
        )
        back = [Link(batch.get_span_context())]
        records: list[Span] = []
        for event in events:
            msg = event.message
            parent = context_from_headers(msg.headers)
            span = _tracer.start_span(
                f"process {msg.topic}",
                context=parent or Context(),
                kind=SpanKind.CONSUMER,
                links=back,
                attributes={
                    **_KAFKA,
                    "messaging.operation.type": "process",
                    "messaging.destination.name": msg.topic,
                    "messaging.destination.partition.id": str(msg.partition),
                    "messaging.kafka.offset": msg.offset,
                    "winnow.service": service,
                },
            )
            # Link to the creation context (the conventions' choice); a record that came
            # without one is linked through its own new trace.
            target = trace.get_current_span(parent) if parent is not None else span
            batch.add_link(target.get_span_context())
            records.append(span)
        return cls(batch, records)

    def headers(self, position: int) -> Headers:
        """Headers for what is produced from the batch's record at ``position``."""
        if self._batch is None:
            return []
        return headers_of(self._records[position])

    def bind(self, examples: Iterable[Example], positions: Iterable[int]) -> None:
        """Remember which record each example came from, for :meth:`headers_for`."""
        if self._batch is not None:
            self._by_example.update(zip(map(example_key, examples), positions, strict=True))

    def headers_for(self, example: Example) -> Headers:
        """Headers for what is produced from ``example`` (bound earlier, or none)."""
        if self._batch is None:
            return []
        position = self._by_example.get(example_key(example))
        return [] if position is None else self.headers(position)

    @contextmanager
    def span(
        self, name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any]
    ) -> Iterator[None]:
        """A step of the batch (the store write): a child of the batch span, mirrored with the
        same times under every record span and linked to it."""
        if _tracer is None or self._batch is None:
            yield
            return
        start = time.time_ns()
        step = _tracer.start_span(
            name,
            context=trace.set_span_in_context(self._batch),
            kind=kind,
            attributes=dict(attributes),
            start_time=start,
        )
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            end = time.time_ns()
            _finish(step, error, end)
            link = [Link(step.get_span_context())]
            for record in self._records:
                mirror = _tracer.start_span(
                    name,
                    context=trace.set_span_in_context(record),
                    kind=kind,
                    attributes=dict(attributes),
                    links=link,
                    start_time=start,
                )
                _finish(mirror, error, end)

    def end(self, error: BaseException | None = None) -> None:
        """Close every span of the batch (as failed when ``error`` is given)."""
        if self._batch is None:
            return
        end = time.time_ns()
        for record in self._records:
            _finish(record, error, end)
        _finish(self._batch, error, end)


OFF: Final = BatchTrace()
"""The batch trace while tracing is off: no spans, no headers."""


def _finish(span: Span, error: BaseException | None, end: int) -> None:
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end(end_time=end)


@contextmanager
def producing(records: Sequence[tuple[str, str]]) -> Iterator[list[Headers]]:
    """PRODUCER ``create <topic>`` spans for (topic, event id) records about to be sent, children
    of the current span (the gateway's request); yields each record's headers and ends the spans
    when the block does (failed if it raises)."""
    if _tracer is None:
        yield [[] for _ in records]
        return
    spans = [
        _tracer.start_span(
            f"create {topic}",
            kind=SpanKind.PRODUCER,
            attributes={
                **_KAFKA,
                "messaging.operation.type": "create",
                "messaging.destination.name": topic,
                "messaging.message.id": event_id,
            },
        )
        for topic, event_id in records
    ]
    error: BaseException | None = None
    try:
        yield [headers_of(s) for s in spans]
    except BaseException as exc:
        error = exc
        raise
    finally:
        end = time.time_ns()
        for span in spans:
            _finish(span, error, end)


def tracer() -> Tracer | None:
    """Winnow's tracer, or None while tracing is off (the gateway's request spans use it)."""
    return _tracer
