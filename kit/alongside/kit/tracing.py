"""OpenTelemetry tracing: off unless configured, by the standard ``OTEL_*`` variables.

Off (the default), nothing is built: no provider, no exporter thread, no
interceptor step, and every helper here returns at once (one module flag).
On, a process exports its spans in batches, by OTLP/gRPC or to its console,
sampled by the standard sampler variables (``docs/tracing.md``). In a trace
that is not sampled no span is made at all; the context is carried on.

The server span of each RPC is made by the kit's own interceptor
(``alongside.kit.grpc.interceptors``) with the OpenTelemetry API: the gRPC
instrumentation's server interceptor works with grpc.aio, but it cost twice
as much per call that is not sampled (it wraps each call's handler and
context anew and reads the caller's address before sampling). Channels use
the instrumentation's client interceptors.

Spans carry names of methods, event types, functions and solvers, status
codes and counts, never a value from a request or a store (no ids of
people, no keys): ``tests/e2e/test_privacy.py`` plants canaries and looks
for them in every span exported.

The trace context travels in W3C ``traceparent``/``tracestate``: in gRPC
metadata, in every CloudEvent's NATS headers (the distributed-tracing
extension, stored with the outbox entry when it commits) and with each
notification's record, so the delivery that sends the email continues the
trace of the event that caused it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from alongside.kit.settings import ConfigError

TRACEPARENT, TRACESTATE = "traceparent", "tracestate"
_KEYS = frozenset({TRACEPARENT, TRACESTATE})
EXPORTERS = ("otlp", "console")
_PROPAGATOR = TraceContextTextMapPropagator()
_NULL: AbstractContextManager[Span] = nullcontext(INVALID_SPAN)

# Set once the process has a real tracer provider: every helper checks it
# first, so a process without tracing pays one global read per call.
_on = False
_tracer: Tracer = trace.NoOpTracer()


def wanted(environ: Mapping[str, str]) -> str | None:
    """The exporter the environment asks for, or None for tracing off.

    Off unless ``OTEL_TRACES_EXPORTER`` names one (``otlp`` or ``console``)
    or an OTLP endpoint is set; ``OTEL_SDK_DISABLED=true`` wins over both."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    if not names:
        endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        return "otlp" if endpoint else None
    if names == ["none"]:
        return None
    unknown = [n for n in names if n not in EXPORTERS]
    if unknown or len(names) > 1:
        raise ConfigError(f"OTEL_TRACES_EXPORTER must be one of none, {', '.join(EXPORTERS)}")
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    if names[0] == "otlp" and protocol != "grpc":
        raise ConfigError("OTEL_EXPORTER_OTLP_PROTOCOL: only grpc is supported")
    return names[0]


def configure(service: str, environ: Mapping[str, str] | None = None) -> Any | None:
    """Start tracing for this process if the environment asks for it;
    returns the provider (``shutdown`` flushes it), or None when off."""
    env = os.environ if environ is None else environ
    exporter_name = wanted(env)
    if exporter_name is None:
        return None
    # Imported only when on: the SDK and the exporter cost start-up time.
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    exporter: SpanExporter
    if exporter_name == "console":
        exporter = ConsoleSpanExporter(service_name=service)
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or service})
    provider = TracerProvider(resource=resource, sampler=_sampler(env))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    install(provider)
    return provider


def install(provider: Any) -> None:
    """Trace with ``provider`` (an SDK ``TracerProvider``) from now on: the
    process's one provider (tests install one with an in-memory exporter)."""
    global _on, _tracer
    trace.set_tracer_provider(provider)
    _tracer = provider.get_tracer("alongside")
    _on = True


def install_again() -> None:
    """Trace again with the provider ``install`` set (after ``uninstall``)."""
    global _on, _tracer
    _tracer = trace.get_tracer_provider().get_tracer("alongside")
    _on = True


def uninstall() -> None:
    """Stop making spans (tests: the provider stays the process's own)."""
    global _on, _tracer
    _on, _tracer = False, trace.NoOpTracer()


def enabled() -> bool:
    return _on


def span(
    name: str, kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any] | None = None
) -> AbstractContextManager[Span]:
    """A current span for a block (a no-op when tracing is off). Name it
    after what runs (a function, an event type), never after a value."""
    if not _on or _unsampled(trace.get_current_span()):
        return _NULL
    return _current(None, name, kind, attributes)


def continued(
    carrier: Mapping[str, str], name: str, kind: SpanKind, attributes: Mapping[str, Any] | None = None
) -> AbstractContextManager[Span]:
    """A current span continuing the trace whose context ``carrier`` holds
    (a new trace without one). In a trace that is not sampled, no span is
    made: the caller's context becomes current, so what follows carries it on."""
    if not _on:
        return _NULL
    parent = _PROPAGATOR.extract(carrier)
    if _unsampled(trace.get_current_span(parent)):
        return _attached(parent)
    return _current(parent, name, kind, attributes)


@contextmanager
def _attached(parent: Any) -> Iterator[Span]:
    token = otel_context.attach(parent)
    try:
        yield trace.get_current_span(parent)
    finally:
        otel_context.detach(token)


def _unsampled(of: Span) -> bool:
    """``of`` belongs to a trace that is not sampled: spans in it would be
    dropped, so none are made (what 90 % of calls cost at 10 % sampling)."""
    found = of.get_span_context()
    return bool(found.is_valid and not found.trace_flags.sampled)


@contextmanager
def _current(parent: Any, name: str, kind: SpanKind, attributes: Mapping[str, Any] | None) -> Iterator[Span]:
    # An exception's message may hold a value: a failed span records the type only.
    with _tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except BaseException as exc:
            failed(current, exc)
            raise


def valkey(function: str) -> AbstractContextManager[Span]:
    """A span for one Valkey function call (``FCALL``): its name, never its
    keys or arguments. Only inside a trace: background loops' calls (polls,
    trims) would each start a trace of their own."""
    if not _on or not _in_trace():
        return _NULL
    attributes = {"db.system.name": "valkey", "db.operation.name": "FCALL", "db.stored_procedure.name": function}
    return _current(None, f"FCALL {function}", SpanKind.CLIENT, attributes)


def _in_trace() -> bool:
    """A sampled trace is current (Valkey spans are made only inside one)."""
    return bool(trace.get_current_span().is_recording())


def transaction() -> AbstractContextManager[Span]:
    """A span for one Valkey transaction (``MULTI`` .. ``EXEC``), not one per command (inside a trace only)."""
    if not _on or not _in_trace():
        return _NULL
    attributes = {"db.system.name": "valkey", "db.operation.name": "EXEC"}
    return _current(None, "MULTI/EXEC", SpanKind.CLIENT, attributes)


def solver(name: str, size: int) -> AbstractContextManager[Span]:
    """A span for one solver run (``batch``, ``planner``) over ``size`` items;
    ``solved`` adds its outcome."""
    if not _on or _unsampled(trace.get_current_span()):
        return _NULL
    return _current(None, f"solve {name}", SpanKind.INTERNAL, {"alongside.solver": name, "alongside.solver.size": size})


def solved(current: Span, status: str, gap: float | None, seconds: float) -> None:
    """The solver's status, optimality gap and time on its span."""
    if _on:
        current.set_attribute("alongside.solver.status", status)
        current.set_attribute("alongside.solver.seconds", seconds)
        if gap is not None:
            current.set_attribute("alongside.solver.gap", gap)


def start(name: str, carrier: Mapping[str, str], kind: SpanKind, attributes: Mapping[str, Any]) -> Span:
    """A span (not current) continuing ``carrier``'s trace, ended by the caller;
    a span that does not record in a trace that is not sampled (``is_recording``)."""
    if not _on:
        return INVALID_SPAN
    if not _sampled_flag(carrier.get(TRACEPARENT, "")):
        return INVALID_SPAN  # most publishes at a low ratio: no parsing at all
    parent = _PROPAGATOR.extract(carrier)
    if _unsampled(found := trace.get_current_span(parent)):
        return found
    return _tracer.start_span(name, context=parent, kind=kind, attributes=attributes)


def _sampled_flag(traceparent: str) -> bool:
    """The sampled bit of a W3C ``traceparent`` (``00-<trace>-<span>-<flags>``), read without parsing it all."""
    try:
        return bool(int(traceparent[-2:], 16) & 1)
    except ValueError:
        return False


def carrier(of: Span | None = None) -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of ``of`` or of the current span;
    empty when tracing is off or no span is current."""
    if not _on:
        return {}
    # W3C trace context, formatted here: the propagator's inject costs several
    # times more, and every event made with tracing on pays it.
    found = (trace.get_current_span() if of is None else of).get_span_context()
    if not found.is_valid:
        return {}
    headers = {TRACEPARENT: f"00-{found.trace_id:032x}-{found.span_id:016x}-{found.trace_flags:02x}"}
    if found.trace_state:
        headers[TRACESTATE] = found.trace_state.to_header()
    return headers


def inject(headers: MutableMapping[str, str], of: Span) -> None:
    """Replace the trace context in ``headers`` with ``of``'s."""
    if _on:
        headers.pop(TRACESTATE, None)
        headers.update(carrier(of))


def current_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids in hex, if tracing and in a span."""
    if not _on:
        return None
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def sampled_ids() -> tuple[str, str] | None:
    """``current_ids`` of a span that is sampled (exported), else None."""
    if not _on:
        return None
    ctx = trace.get_current_span().get_span_context()
    if not (ctx.is_valid and ctx.trace_flags.sampled):
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def annotate(key: str, value: str | int | float | bool) -> None:
    """Set an attribute (a name or a count, never a value) on the current span."""
    if _on:
        trace.get_current_span().set_attribute(key, value)


def failed(current: Span, error: BaseException) -> None:
    """Mark ``current`` failed with the error's type only (a message may hold a value)."""
    if _on:
        current.set_status(Status(StatusCode.ERROR, type(error).__name__))
        current.set_attribute("error.type", type(error).__name__)


# Codes that are the server's failure, not the caller's (OpenTelemetry's gRPC conventions).
_SERVER_ERRORS = frozenset({"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"})


def server(method: str, metadata: Iterable[tuple[str, Any]]) -> AbstractContextManager[Span]:
    """The server span of one RPC (``/package.Service/Method``), continuing the
    caller's trace from the call's metadata; ``answered`` adds the status."""
    if not _on:
        return _NULL
    carrier = {key: value for key, value in metadata if key in _KEYS}
    parent = _PROPAGATOR.extract(carrier) if carrier else None
    if parent is not None and _unsampled(trace.get_current_span(parent)):
        return _attached(parent)
    attributes = _RPC_ATTRIBUTES.get(method)
    if attributes is None:
        service, _, name = method.lstrip("/").partition("/")
        attributes = _RPC_ATTRIBUTES[method] = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
    return _serving(_tracer.start_span(method, context=parent, kind=SpanKind.SERVER, attributes=attributes))


_RPC_ATTRIBUTES: dict[str, dict[str, str]] = {}  # per method name: a fixed vocabulary


@contextmanager
def _serving(span: Span) -> Iterator[Span]:
    """``span`` current for the call, then ended. Not ``_current``: a refused
    call is no failure of the server's, and ``answered`` says which are."""
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield span
    finally:
        otel_context.detach(token)
        span.end()


def answered(code: str, number: int) -> None:
    """The current RPC's status on its server span (``code`` by name and number)."""
    if not _on:
        return
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attribute("rpc.grpc.status_code", number)
        if code in _SERVER_ERRORS:
            current.set_status(Status(StatusCode.ERROR, code))


def client_interceptors() -> list[Any]:
    """The instrumentation's client interceptors (a client span per call, the
    context in the call's metadata), when on."""
    if not _on:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return list(aio_client_interceptors())


def _sampler(env: Mapping[str, str]) -> Any:
    """The standard ``OTEL_TRACES_SAMPLER`` (default ``parentbased_always_on``) and its ratio argument."""
    from opentelemetry.sdk.trace import sampling

    name = env.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    ratio = 1.0
    if "traceidratio" in name:
        try:
            ratio = float(env.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
        except ValueError:
            raise ConfigError("OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1") from None
        if not 0.0 <= ratio <= 1.0:
            raise ConfigError("OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1")
    root = {
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
        "traceidratio": sampling.TraceIdRatioBased(ratio),
    }
    base = name.removeprefix("parentbased_")
    if base not in root:
        raise ConfigError(f"OTEL_TRACES_SAMPLER: unknown sampler {name!r}")
    return sampling.ParentBased(root[base]) if name.startswith("parentbased_") else root[base]
