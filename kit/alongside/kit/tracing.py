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
import random
from collections.abc import Iterable, Mapping, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.trace import (
    INVALID_SPAN,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
)
from opentelemetry.trace.propagation import _SPAN_KEY
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from alongside.kit.settings import ConfigError

TRACEPARENT, TRACESTATE = "traceparent", "tracestate"
_KEYS = frozenset({TRACEPARENT, TRACESTATE})
EXPORTERS = ("otlp", "console")
SCHEDULE_DELAY_MS = 1000  # the batch span processor's, unless OTEL_BSP_SCHEDULE_DELAY is set
_PROPAGATOR = TraceContextTextMapPropagator()
_NULL: AbstractContextManager[Span] = nullcontext(INVALID_SPAN)

# The current context, read and set straight from the API's context variable
# (what ``trace.get_current_span``, ``attach`` and ``detach`` do underneath,
# without their layers and the ``isinstance`` check against an ABC): every
# helper reads it, several times a call. Another runtime context
# (``OTEL_PYTHON_CONTEXT``) goes through the API.
_RUNTIME = otel_context._RUNTIME_CONTEXT
_VAR = _RUNTIME._current_context if isinstance(_RUNTIME, ContextVarsRuntimeContext) else None


def _current() -> Span:
    """The current span (``INVALID_SPAN`` when none)."""
    if _VAR is None:
        return trace.get_current_span()
    found: Span | None = _VAR.get().get(_SPAN_KEY)  # type: ignore[assignment]
    return INVALID_SPAN if found is None else found


def _attach(span: Span) -> Any:
    """Make ``span`` current (in a copy of the current context); a token for ``_detach``."""
    if _VAR is None:
        return otel_context.attach(trace.set_span_in_context(span))
    return _VAR.set(otel_context.Context({**_VAR.get(), _SPAN_KEY: span}))


def _detach(token: Any) -> None:
    if _VAR is None:
        otel_context.detach(token)
        return
    try:
        _VAR.reset(token)
    except (ValueError, RuntimeError):  # another task's token (a generator closed elsewhere): as the API, let it be
        return


# Set once the process has a real tracer provider: every helper checks it
# first, so a process without tracing pays one global read per call.
_on = False
_tracer: Tracer = trace.NoOpTracer()
# A root span is sampled when the low 64 bits of its trace id are below this
# bound (the SDK's TraceIdRatioBased rule), decided here before the SDK makes
# anything; None: the SDK decides (a provider ``configure`` did not build).
_bound: int | None = None
_ahead: AheadIds | None = None
_LOW_64 = (1 << 64) - 1
_UNSAMPLED_ROOT = TraceFlags(TraceFlags.DEFAULT | TraceFlags.RANDOM_TRACE_ID)  # as the SDK flags its own


class AheadIds:
    """The SDK's random ids (an ``IdGenerator``), with a root's trace id drawn
    ahead: ``_root`` draws it, decides sampling from it, and hands it to the
    SDK only when sampled, so the SDK's sampler, reading the same id, agrees.
    One event loop thread makes the spans; a span made between the draw and
    its use (another thread) would take the id, and this root a fresh one."""

    def __init__(self) -> None:
        self.ahead = 0

    def generate_trace_id(self) -> int:
        drawn, self.ahead = self.ahead, 0
        return drawn or _draw(128)

    def generate_span_id(self) -> int:
        return _draw(64)

    def is_trace_id_random(self) -> bool:
        return True


def _draw(bits: int) -> int:
    drawn = random.getrandbits(bits)
    while not drawn:  # zero is the invalid id
        drawn = random.getrandbits(bits)
    return drawn


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
    resource = _hashed_once(Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or service}))
    sampler, bound = _sampler(env)
    ids: Any = AheadIds()  # an IdGenerator by its methods: this module imports no SDK when off
    provider = TracerProvider(resource=resource, sampler=sampler, id_generator=ids)
    # Sent every second rather than the SDK's 5 s unless OTEL_BSP_SCHEDULE_DELAY
    # says otherwise: a collector shows a trace soon, and fewer spans wait in
    # the queue for each garbage collection to walk. Not more often: each
    # export costs the process ~0.5-0.7 ms of CPU whatever it holds (a gRPC
    # call from the exporter's thread and gRPC's own), so at 200 ms a 10 %
    # sampled service paid ~3.5 ms a second for exports: docs/benchmarks.md.
    delay = None if env.get("OTEL_BSP_SCHEDULE_DELAY") else SCHEDULE_DELAY_MS
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=delay))
    install(provider, bound)
    return provider


def _hashed_once(resource: Any) -> Any:
    """``resource``, hashed once: the OTLP exporter groups each span by its
    resource, and a ``Resource`` hashes a JSON dump of its attributes every
    time (about 4 us of the ~20 us a span costs to encode)."""
    from opentelemetry.sdk.resources import Resource

    class HashedOnce(Resource):
        def __init__(self, attributes: Any, schema_url: str | None) -> None:
            super().__init__(attributes, schema_url)
            self._hash = super().__hash__()

        def __hash__(self) -> int:
            return self._hash

    return HashedOnce(resource.attributes, resource.schema_url)


def install(provider: Any, root_bound: int | None = None) -> None:
    """Trace with ``provider`` (an SDK ``TracerProvider``) from now on: the
    process's one provider (tests install one with an in-memory exporter).
    ``root_bound``: its sampler's rule for roots (``_sampler``), used when its
    ids are ``AheadIds``; None leaves every decision to the SDK."""
    global _on, _tracer, _bound, _ahead
    trace.set_tracer_provider(provider)
    _tracer = provider.get_tracer("alongside")
    ids = getattr(provider, "id_generator", None)
    _ahead = ids if isinstance(ids, AheadIds) else None
    _bound = root_bound if _ahead is not None else None
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
    if not _on:
        return _NULL
    current = _current()
    if current.is_recording():
        return _Current(_tracer.start_span(name, None, kind, attributes))
    if type(current) is _UnsampledRoot:
        return _NULL
    found = current.get_span_context()
    if found.is_valid:
        return _NULL if not found.trace_flags.sampled else _Current(_tracer.start_span(name, None, kind, attributes))
    return _root(name, kind, attributes)


def continued(
    carrier: Mapping[str, str], name: str, kind: SpanKind, attributes: Mapping[str, Any] | None = None
) -> AbstractContextManager[Span]:
    """A current span continuing the trace whose context ``carrier`` holds
    (a new trace without one). In a trace that is not sampled, no span is
    made: the caller's context becomes current, so what follows carries it on."""
    if not _on:
        return _NULL
    if TRACEPARENT not in carrier:
        return _root(name, kind, attributes)
    parent = _PROPAGATOR.extract(carrier)
    if _unsampled(found := trace.get_current_span(parent)):
        return _Attached(found)
    return _Current(_tracer.start_span(name, parent, kind, attributes))


def _root(
    name: str, kind: SpanKind, attributes: Mapping[str, Any] | None, served: bool = False
) -> AbstractContextManager[Span]:
    """A current span starting a trace. Sampling is decided first, from the
    trace id drawn ahead (``AheadIds``): a root that is not sampled (nine in
    ten at 10 %) costs one random draw and its context, no SDK span; its
    span id and ``SpanContext`` are made only if something reads them
    (``_UnsampledRoot``)."""
    if _bound is not None and _ahead is not None:
        trace_id = _draw(128)
        if trace_id & _LOW_64 >= _bound:
            return _Attached(_UnsampledRoot(trace_id))
        _ahead.ahead = trace_id
    return _Current(_tracer.start_span(name, _ROOT, kind, attributes), served)


_ROOT = otel_context.Context()  # no parent: a span started in it begins a trace


class _UnsampledRoot(NonRecordingSpan):
    """The span of a root that is not sampled: its trace id drawn (the
    sampling decision read it), its span id and ``SpanContext`` only when
    first asked for (an event's ``traceparent``, a log line's ids). Most
    calls at a low ratio are such roots and most make no event: they never
    pay for them."""

    def __init__(self, trace_id: int) -> None:
        self._trace_id = trace_id
        self._made: SpanContext | None = None

    def get_span_context(self) -> SpanContext:
        found = self._made
        if found is None:
            found = self._made = SpanContext(self._trace_id, _draw(64), False, _UNSAMPLED_ROOT)
        return found

    def __repr__(self) -> str:
        return f"_UnsampledRoot({self._trace_id:032x})"


class _Attached:
    """``span`` (not sampled, not recording) current for a block: the trace is carried on, no span made."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: Span) -> None:
        self._span = span

    def __enter__(self) -> Span:
        self._token = _attach(self._span)
        return self._span

    def __exit__(self, *_: object) -> None:
        _detach(self._token)


def _unsampled(of: Span) -> bool:
    """``of`` belongs to a trace that is not sampled: spans in it would be
    dropped, so none are made (what 90 % of calls cost at 10 % sampling)."""
    found = of.get_span_context()
    return bool(found.is_valid and not found.trace_flags.sampled)


class _Current:
    """``span`` current for a block, then ended. A span that fails records the
    error's type only (``failed``: its message may hold a value), unless
    ``served``: a refused call is no failure of the server's (``answered``
    says which are). A class, not the SDK's ``start_as_current_span``: every
    sampled span passes here, and two generator-based context managers cost
    more than the span's own bookkeeping."""

    __slots__ = ("_served", "_span", "_token")

    def __init__(self, span: Span, served: bool = False) -> None:
        self._span, self._served = span, served

    def __enter__(self) -> Span:
        self._token = _attach(self._span)
        return self._span

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None) -> None:
        try:
            if error is not None and not self._served:
                failed(self._span, error)
        finally:
            _detach(self._token)
            self._span.end()


def valkey(function: str) -> AbstractContextManager[Span]:
    """A span for one Valkey function call (``FCALL``): its name, never its
    keys or arguments. Only inside a trace: background loops' calls (polls,
    trims) would each start a trace of their own."""
    if not _on or not _in_trace():
        return _NULL
    named = _FUNCTIONS.get(function)
    if named is None:
        attributes = {"db.system.name": "valkey", "db.operation.name": "FCALL", "db.stored_procedure.name": function}
        named = _FUNCTIONS[function] = (f"FCALL {function}", attributes)
    return _Current(_tracer.start_span(named[0], None, SpanKind.CLIENT, named[1]))


_FUNCTIONS: dict[str, tuple[str, dict[str, str]]] = {}  # per function: its span's name and attributes


def _in_trace() -> bool:
    """A sampled trace is current (Valkey spans are made only inside one)."""
    return bool(_current().is_recording())


def transaction() -> AbstractContextManager[Span]:
    """A span for one Valkey transaction (``MULTI`` .. ``EXEC``), not one per command (inside a trace only)."""
    if not _on or not _in_trace():
        return _NULL
    return _Current(_tracer.start_span("MULTI/EXEC", None, SpanKind.CLIENT, _EXEC))


_EXEC = {"db.system.name": "valkey", "db.operation.name": "EXEC"}


def solver(name: str, size: int) -> AbstractContextManager[Span]:
    """A span for one solver run (``batch``, ``planner``) over ``size`` items;
    ``solved`` adds its outcome."""
    return span(f"solve {name}", SpanKind.INTERNAL, {"alongside.solver": name, "alongside.solver.size": size})


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
    global _carried
    # W3C trace context, formatted here: the propagator's inject costs several
    # times more, and every event made with tracing on pays it (sampled or
    # not); formatted once per span (a booking's two events share it).
    found = (_current() if of is None else of).get_span_context()
    last, headers = _carried
    if found is not last:
        if not found.is_valid:
            return {}
        headers = {TRACEPARENT: f"00-{found.trace_id:032x}-{found.span_id:016x}-{found.trace_flags:02x}"}
        if found.trace_state:
            headers[TRACESTATE] = found.trace_state.to_header()
        _carried = (found, headers)  # holds ``found``: no other context can reuse its id()
    return dict(headers)


_carried: tuple[SpanContext | None, dict[str, str]] = (None, {})  # the last context formatted


def inject(headers: MutableMapping[str, str], of: Span) -> None:
    """Replace the trace context in ``headers`` with ``of``'s."""
    if _on:
        headers.pop(TRACESTATE, None)
        headers.update(carrier(of))


def current_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids in hex, if tracing and in a span."""
    if not _on:
        return None
    ctx = _current().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def sampled_ids() -> tuple[str, str] | None:
    """``current_ids`` of a span that is sampled (exported), else None."""
    if not _on:
        return None
    current = _current()
    if type(current) is _UnsampledRoot:
        return None
    ctx = current.get_span_context()
    if not (ctx.is_valid and ctx.trace_flags.sampled):
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def annotate(key: str, value: str | int | float | bool) -> None:
    """Set an attribute (a name or a count, never a value) on the current span."""
    if _on:
        _current().set_attribute(key, value)


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
    carrier: dict[str, str] = {}
    for key, value in metadata:
        if key in _KEYS:
            carrier[key] = value
    attributes = _RPC_ATTRIBUTES.get(method)
    if attributes is None:
        service, _, name = method.lstrip("/").partition("/")
        attributes = _RPC_ATTRIBUTES[method] = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
    if TRACEPARENT not in carrier:  # a call from outside any trace (the booking bench's every call)
        return _root(method, SpanKind.SERVER, attributes, served=True)
    parent = _PROPAGATOR.extract(carrier)
    if _unsampled(found := trace.get_current_span(parent)):
        return _Attached(found)
    return _Current(_tracer.start_span(method, parent, SpanKind.SERVER, attributes), served=True)


_RPC_ATTRIBUTES: dict[str, dict[str, str]] = {}  # per method name: a fixed vocabulary


def answered(code: str, number: int) -> None:
    """The current RPC's status on its server span (``code`` by name and number)."""
    if not _on:
        return
    current = _current()
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


def _sampler(env: Mapping[str, str]) -> tuple[Any, int | None]:
    """The standard ``OTEL_TRACES_SAMPLER`` (default ``parentbased_always_on``)
    with its ratio argument, and its rule for roots as ``_root`` applies it
    (the ratio's bound; 0 for always off; None for always on: the SDK's way)."""
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
    bound = {"always_on": None, "always_off": 0, "traceidratio": sampling.TraceIdRatioBased.get_bound_for_rate(ratio)}
    chosen = sampling.ParentBased(root[base]) if name.startswith("parentbased_") else root[base]
    return chosen, bound[base]
