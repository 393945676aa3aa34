"""Spans for tests: the SDK's in-memory exporter in this process, and an
OTLP/gRPC receiver for service processes to export to.

A process has one tracer provider for good (OpenTelemetry's rule), so the
in-memory one is installed on first use and shared; ``Recorder`` turns
tracing on for one test and clears what earlier tests left.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.json_format import MessageToJson
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from alongside.kit import tracing

_shared: InMemorySpanExporter | None = None


@contextmanager
def recording() -> Iterator[InMemorySpanExporter]:
    """Tracing on, every span sampled and kept in memory, for the block."""
    global _shared
    if _shared is None:
        _shared = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_shared))
        tracing.install(provider)
    else:
        tracing.install_again()
    _shared.clear()
    try:
        yield _shared
    finally:
        tracing.uninstall()


@dataclass(frozen=True)
class Received:
    """One span as a service exported it, flattened for checks."""

    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    text: str  # the whole span as JSON: names, attributes, events, status


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    """An OTLP/gRPC trace receiver (the collector's ``Export`` RPC) on a free port."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self.port = 0

    def Export(self, request: Any, context: Any) -> Any:  # the RPC's name
        found = list(_flatten(request))
        with self._lock:
            self.spans.extend(found)
        return trace_service_pb2.ExportTraceServiceResponse()

    def start(self) -> Receiver:
        from concurrent.futures import ThreadPoolExecutor

        self._server = grpc.server(ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return self

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What a service process needs to export every span here, promptly."""
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }

    def trace(self, trace_id: str) -> list[Received]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def everything(self) -> list[Received]:
        with self._lock:
            return list(self.spans)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(None)


def _flatten(request: Any) -> Iterable[Received]:
    for resource_spans in request.resource_spans:
        service = next(
            (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), ""
        )
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield Received(
                    service=service,
                    name=span.name,
                    kind=int(span.kind),
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_id=span.parent_span_id.hex(),
                    attributes={a.key: _value(a.value) for a in span.attributes},
                    text=MessageToJson(span),
                )


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


def spans_of(exported: Iterable[ReadableSpan]) -> list[str]:
    """Every exported in-memory span as JSON text (for canary checks)."""
    return [span.to_json() for span in exported]
