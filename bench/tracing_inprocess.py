"""What tracing adds to one booking-shaped call, in process: the kit's tracing
helpers alone, off, with no root sampled, at 10 % and at 100 %.

Run: ``python -m bench.tracing_inprocess [calls per round]``.

The shape of a booking that books (``bench.scheduler_booking``): a server
span, two Valkey function spans, two events made (their ``traceparent``),
the call's status and exemplar, then the relay's publish span for each event.
Spans go through the batch span processor to an exporter that encodes them as
OTLP would (the SDK's encoder) and drops the bytes, so the exporter thread's
work counts: ``time.process_time`` is the whole process. Five interleaved
rounds; the median per setting. No gRPC, no Valkey: the figures are the
tracing work only, to set against a booking's ~0.7 ms of CPU.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

from alongside.kit import tracing
from alongside.kit.metrics import RpcMetrics

METHOD = "/alongside.scheduler.v1.SchedulerService/BookSession"
METADATA = (("authorization", "Bearer x"), ("user-agent", "grpc-python"))
PUBLISH = {"messaging.system": "nats", "messaging.operation.type": "send", "alongside.event.type": "session.booked"}


class Encoded(SpanExporter):
    """Encodes each batch as the OTLP exporter does, and drops it."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        encode_spans(spans).SerializeToString()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


async def call(metrics: RpcMetrics) -> None:
    with tracing.server(METHOD, METADATA):
        with tracing.valkey("scheduler_probe"):
            pass
        with tracing.valkey("scheduler_commit"):
            pass
        events = [tracing.carrier(), tracing.carrier()]
        tracing.answered("OK", 0)
        metrics.observe(METHOD, "OK", 0.001)
    for carried in events:  # the relay, later, outside the call
        headers = {**carried, "ce-id": "x"}
        if tracing.enabled() and tracing.TRACEPARENT in headers:
            span = tracing.start("publish session.booked", headers, SpanKind.PRODUCER, PUBLISH)
            if span.is_recording():
                tracing.inject(headers, span)
                span.end()


def providers() -> dict[str, Any]:
    made = {}
    for label, ratio in (("none sampled", "0"), ("10 % sampled", "0.1"), ("100 % sampled", "1")):
        sampler, bound = tracing._sampler(
            {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": ratio}
        )
        resource = tracing._hashed_once(Resource.create({"service.name": "bench"}))
        ids: Any = tracing.AheadIds()
        provider = TracerProvider(resource=resource, sampler=sampler, id_generator=ids)
        provider.add_span_processor(BatchSpanProcessor(Encoded()))
        made[label] = (provider, bound)
    return made


async def main(per_round: int) -> None:
    logging.getLogger("opentelemetry.trace").setLevel(logging.ERROR)  # one provider a process: it says so each switch
    metrics = RpcMetrics()
    made = providers()
    results: dict[str, list[float]] = {"tracing off": [], **{label: [] for label in made}}
    for _ in range(5):
        for label in results:
            if label == "tracing off":
                tracing.uninstall()
            else:
                tracing.install(*made[label])
            began = time.process_time()
            for _ in range(per_round):
                await call(metrics)
            if label != "tracing off":
                made[label][0].force_flush()  # the exporter's work is part of the cost
            results[label].append((time.process_time() - began) / per_round * 1e6)
    off = statistics.median(results["tracing off"])
    print(f"tracing work per booking-shaped call, {per_round} calls a round, median of 5 rounds (us):")
    for label, rounds in results.items():
        median = statistics.median(rounds)
        print(f"  {label:<14}{median:8.1f}  +{median - off:6.1f}   rounds {' '.join(f'{r:.1f}' for r in rounds)}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
