"""Tracing is off unless the standard OTEL_* variables turn it on; off, no
exporter thread runs and nothing is built. Each case runs in a fresh
interpreter: a process gets one tracer provider for good."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alongside.kit import tracing
from alongside.kit.settings import ConfigError

PROBE = """
import json, sys, threading
from alongside.kit import tracing
from alongside.kit.grpc.server import create_server
env = json.loads(sys.argv[1])
provider = tracing.configure("probe", env)
server, _ = create_server("127.0.0.1:0")
with tracing.span("work") as span:
    ids = tracing.current_ids()
threads = sorted(t.name for t in threading.enumerate())
print("RESULT", json.dumps({"on": provider is not None, "threads": threads, "ids": ids,
                  "sdk": "opentelemetry.sdk.trace" in sys.modules}))
if provider is not None:
    provider.shutdown()
"""


def probe(env: dict[str, str]) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(env)], env=clean, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    (line,) = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    result: dict[str, object] = json.loads(line.removeprefix("RESULT "))
    return result


def test_off_by_default_no_exporter_thread_and_no_sdk() -> None:
    result = probe({})
    assert (result["on"], result["ids"], result["sdk"]) == (False, None, False)
    # grpc.aio's own poller thread only.
    assert result["threads"] == ["MainThread", "Thread-1 (_poll_wrapper)"]


def test_on_with_the_console_exporter_one_batch_thread() -> None:
    result = probe({"OTEL_TRACES_EXPORTER": "console"})
    assert result["on"] is True
    assert result["threads"] == ["MainThread", "OtelBatchSpanRecordProcessor", "Thread-1 (_poll_wrapper)"]
    assert result["ids"] is not None


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, None),
        ({"OTEL_TRACES_EXPORTER": "none"}, None),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, None),
    ],
)
def test_which_exporter_the_environment_asks_for(env: dict[str, str], wanted: str | None) -> None:
    assert tracing.wanted(env) == wanted


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_TRACES_EXPORTER": "zipkin"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
    ],
)
def test_an_exporter_we_do_not_ship_fails_at_start_up(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="OTEL_"):
        tracing.wanted(env)


def test_helpers_are_no_ops_when_off() -> None:
    assert not tracing.enabled()
    assert tracing.carrier() == {}
    assert tracing.client_interceptors() == []
    with tracing.span("x") as span, tracing.valkey("f"), tracing.solver("batch", 3), tracing.server("/a/B", ()):
        assert not span.get_span_context().is_valid


def test_the_context_an_event_carries_is_the_w3c_one_with_its_tracestate() -> None:
    from opentelemetry.trace import SpanKind

    from alongside.kit.testing.spans import recording

    trace_id, caller = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    incoming = {"traceparent": f"00-{trace_id}-{caller}-01", "tracestate": "vendor=opaque"}
    with recording(), tracing.continued(incoming, "process x", SpanKind.CONSUMER) as span:
        made = tracing.carrier()
    span_id = format(span.get_span_context().span_id, "016x")
    assert made == {"traceparent": f"00-{trace_id}-{span_id}-01", "tracestate": "vendor=opaque"}
    assert tracing._sampled_flag(made["traceparent"]) and not tracing._sampled_flag(f"00-{trace_id}-{caller}-00")
    assert not tracing._sampled_flag("garbage")


ROOTS = """
import json, sys
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from alongside.kit import tracing
env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
       "OTEL_TRACES_SAMPLER_ARG": "0.25", "OTEL_BSP_SCHEDULE_DELAY": "600000"}
provider = tracing.configure("probe", env)
kept = InMemorySpanExporter()
provider.add_span_processor(SimpleSpanProcessor(kept))
made = []
sdk_start = tracing._tracer.start_span
def counted(name, *args, **kwargs):
    made.append(name)
    return sdk_start(name, *args, **kwargs)
tracing._tracer.start_span = counted
calls = []
for i in range(2000):
    root = tracing.server("/a.B/C", ()) if i % 2 else tracing.continued({}, "process x", SpanKind.CONSUMER)
    with root:
        with tracing.valkey("f"):
            pass
        calls.append(tracing.carrier()["traceparent"])
        # Read again, and as a log line reads it: the same ids (an unsampled root draws its span id once, when read).
        trace_id, span_id = tracing.current_ids()
        assert tracing.carrier()["traceparent"] == calls[-1] == f"{calls[-1][:3]}{trace_id}-{span_id}-{calls[-1][-2:]}"
spans = [(format(s.context.trace_id, "032x"), s.name) for s in kept.get_finished_spans()]
with open(sys.argv[1], "w") as out:  # not stdout: the console exporter prints there
    json.dump({"calls": calls, "spans": spans, "made": len(made)}, out)
"""


def test_a_root_is_sampled_by_its_trace_id_before_any_span_is_made(tmp_path: Path) -> None:
    """The kit decides a root's sampling from the trace id it draws ahead, as
    the SDK's ratio sampler would (low 64 bits below ratio * 2**64): a root
    not sampled makes no span and carries its context on with the flag off;
    a sampled one gets that trace id, and its child spans follow it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    found = tmp_path / "roots.json"
    out = subprocess.run(
        [sys.executable, "-c", ROOTS, str(found)], env=clean, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(found.read_text())
    bound = round(0.25 * 2**64)
    sampled = set()
    for traceparent in result["calls"]:
        _, trace_id, _, flags = traceparent.split("-")
        by_rule = int(trace_id, 16) & (2**64 - 1) < bound
        assert flags == ("03" if by_rule else "02")  # sampled or not, and the trace id is random (W3C level 2)
        if by_rule:
            sampled.add(trace_id)
    assert len(set(result["calls"])) == 2000
    assert 350 < len(sampled) < 650  # 25 % of 2000 is 500
    # Exactly the sampled calls made spans, with the trace ids drawn ahead: a root and its FCALL each.
    assert sorted(trace_id for trace_id, name in result["spans"] if name == "FCALL f") == sorted(sampled)
    assert sorted(trace_id for trace_id, name in result["spans"] if name != "FCALL f") == sorted(sampled)
    assert result["made"] == 2 * len(sampled)  # the SDK was never asked for a span it would drop


DELAY = """
import json, sys
from alongside.kit import tracing
provider = tracing.configure("probe", json.loads(sys.argv[1]))
(processor,) = provider._active_span_processor._span_processors
print("RESULT", processor._batch_processor._schedule_delay)
provider.shutdown()
"""


@pytest.mark.parametrize(("env", "seconds"), [({}, 1.0), ({"OTEL_BSP_SCHEDULE_DELAY": "5000"}, 5.0)])
def test_spans_are_sent_every_second_unless_the_environment_says(env: dict[str, str], seconds: float) -> None:
    """Spans are sent every second: not 5 s (the SDK's default) in the queue,
    where every garbage collection walks them, nor every 200 ms (each export
    costs the same CPU however few spans it holds); OTEL_BSP_SCHEDULE_DELAY
    still decides."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    config = json.dumps({"OTEL_TRACES_EXPORTER": "console", **env})
    out = subprocess.run(
        [sys.executable, "-c", DELAY, config], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    (line,) = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert float(line.removeprefix("RESULT ")) == seconds
