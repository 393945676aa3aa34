"""Prometheus metrics: RPCs, events and audit records are counted, and no
label ever carries a value from a request."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.spans import recording
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

from ..matcher.conftest import NOW, intake, peer

CANARY = "canary-metric-label-5e2c"
SUBMIT = "/alongside.matcher.v1.MatcherService/SubmitMatchRequest"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def matcher(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Runtime]:
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, metrics_addr="127.0.0.1:0"
    )
    runtime = build(settings, clock=lambda: NOW)
    await runtime.start()
    yield runtime
    await runtime.stop()


async def scrape(port: int | None) -> tuple[str, Samples]:
    async with httpx.AsyncClient() as client:
        reply = await client.get(f"http://127.0.0.1:{port}/metrics")
    reply.raise_for_status()
    samples: Samples = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return reply.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_calls_events_and_audit_records_are_counted(matcher: Runtime) -> None:
    _, before = await scrape(matcher.metrics_port)
    async with channel(f"127.0.0.1:{matcher.port}", role="admin") as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        await stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="m-up", peer=peer("m-p1")))
        await stub.SubmitMatchRequest(intake("m-ok"))
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.SubmitMatchRequest(intake("m-bad", acuity=-1))

    async def relayed() -> bool:  # peer.upserted, match.requested, match.shortlisted
        _, now = await scrape(matcher.metrics_port)
        published = "alongside_events_published_total"
        return value(now, published) - value(before, published) >= 3

    await eventually(relayed)
    _, after = await scrape(matcher.metrics_port)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("alongside_rpcs_total", method=SUBMIT, code="OK") == 1
    assert delta("alongside_rpcs_total", method=SUBMIT, code="INVALID_ARGUMENT") == 1
    assert delta("alongside_rpc_seconds_count", method=SUBMIT) == 2
    assert delta("alongside_rpc_seconds_bucket", method=SUBMIT, le="+Inf") == 2
    assert delta("alongside_audit_records_total") >= 2  # both intakes, the refused one too
    assert "process_cpu_seconds_total" in {name for name, _ in after}


async def test_no_label_carries_a_value_from_a_request(matcher: Runtime) -> None:
    async with channel(f"127.0.0.1:{matcher.port}", role="intake", subject=CANARY) as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        prefs = pb.Preferences(lived_experience=pb.Preference(values=[CANARY], strength=pb.STRENGTH_PREFERRED))
        participant = pb.Participant(participant_ref=CANARY, time_zone=CANARY)
        for request in (intake("m-c1", preferences=prefs), intake(CANARY, participant=participant)):
            with contextlib.suppress(grpc.aio.AioRpcError):
                await stub.SubmitMatchRequest(request)
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.GetIntake(pb.GetIntakeRequest(request_id=CANARY))
    text, samples = await scrape(matcher.metrics_port)
    assert CANARY not in text
    codes = {code.name for code in grpc.StatusCode}
    for name, labels in samples:
        if not name.startswith("alongside_"):
            continue
        for key, label in labels:
            assert key in ("method", "code", "consumer", "outcome", "channel", "le"), (name, key)
            if key == "method":
                assert label.startswith("/alongside.") and label.count("/") == 2
            if key == "code":
                assert label in codes
            if key == "channel":
                assert label in ("inbox", "email", "webhook")


async def test_with_tracing_on_the_rpc_latency_histogram_links_to_traces(
    nats_url: str, redis_url: str, namespace: str
) -> None:
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, metrics_addr="127.0.0.1:0"
    )
    with recording() as exported:
        runtime = build(settings, clock=lambda: NOW)
        await runtime.start()  # its server is built with tracing on: a server span per call
        try:
            async with channel(f"127.0.0.1:{runtime.port}", role="admin") as chan:
                stub = matcher_pb2_grpc.MatcherServiceStub(chan)
                await stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="x-up", peer=peer("x-p1")))
            async with httpx.AsyncClient() as http:
                reply = await http.get(
                    f"http://127.0.0.1:{runtime.metrics_port}/metrics",
                    headers={"Accept": "application/openmetrics-text; version=1.0.0"},
                )
        finally:
            await runtime.stop()
        calls = [s for s in exported.get_finished_spans() if s.name.endswith("/UpsertPeer")]
    (server,) = [s for s in calls if s.kind is SpanKind.SERVER]
    (client,) = [s for s in calls if s.kind is SpanKind.CLIENT]
    assert server.parent is not None and server.parent.span_id == client.context.span_id  # the context went along
    trace_id = format(server.context.trace_id, "032x")
    span_id = format(server.context.span_id, "016x")
    upsert = '"/alongside.matcher.v1.MatcherService/UpsertPeer"'
    buckets = [line for line in reply.text.splitlines() if "alongside_rpc_seconds_bucket" in line and upsert in line]
    # OpenMetrics: `... # {trace_id="…",span_id="…"} <value> <time>` on the bucket the call fell in.
    assert any(f'# {{span_id="{span_id}",trace_id="{trace_id}"}}' in line for line in buckets), buckets
