"""The CLI retries UNAVAILABLE on calls that carry an idempotency key (gRPC's
service-config retry policy), and one intake results however many tries it took."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.cli.clients import Service
from alongside.kit.grpc.retry import idempotent_methods, service_config, services
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, token
from alongside.kit.testing.servers import ValkeyServer
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings


def _unavailable_answers() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "alongside_rpcs"
        for sample in metric.samples
        if sample.name == "alongside_rpcs_total"
        and sample.labels.get("code") == "UNAVAILABLE"
        and sample.labels.get("method", "").endswith("SubmitMatchRequest")
    )


@pytest.fixture
async def matcher(nats_url: str, own_valkey: ValkeyServer, namespace: str) -> AsyncIterator[Runtime]:
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=own_valkey.url, namespace=namespace
    )
    runtime = build(settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


def test_the_policy_covers_exactly_the_calls_with_an_idempotency_key() -> None:
    methods = dict.fromkeys(f"{service.split('.')[1]}.{method}" for service, method in idempotent_methods(services()))
    assert {"matcher.SubmitMatchRequest", "matcher.AcceptMatch", "scheduler.BookSession"} <= set(methods)
    assert not {"matcher.GetIntake", "matcher.ListWaitlist", "scheduler.ListSessions"} & set(methods)
    policy = json.loads(service_config())["methodConfig"][0]["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]


async def test_an_intake_sent_while_valkey_is_down_is_retried_into_one_request(
    matcher: Runtime, own_valkey: ValkeyServer
) -> None:
    cli = Service("matcher", f"127.0.0.1:{matcher.port}", 20.0, "corr-" + uuid.uuid4().hex, token("intake", "s1"))
    request = mpb.SubmitMatchRequestRequest(
        idempotency_key=uuid.uuid4().hex,
        participant=mpb.Participant(
            participant_ref="ref-retry",
            age_band=mpb.AGE_BAND_ADULT,
            time_zone="UTC",
            availability=[types_pb2.WeeklyWindow(day=1, start_minute=600, end_minute=720)],
        ),
        peer_types=[mpb.PEER_TYPE_RECOVERY_COACH],
        urgency=mpb.URGENCY_ROUTINE,
        acuity=1,
        session_minutes=30,
    )
    refused_before = _unavailable_answers()
    own_valkey.stop()
    call = asyncio.create_task(asyncio.to_thread(cli.call, "SubmitMatchRequest", request))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while _unavailable_answers() == refused_before:  # the first try met the outage
        assert loop.time() < deadline, "the call never reached the matcher"
        await asyncio.sleep(0.05)
    own_valkey.start()  # within the retry policy's backoff
    first = (await call).request
    assert _unavailable_answers() > refused_before  # it was refused at least once, then retried
    again = (await asyncio.to_thread(cli.call, "SubmitMatchRequest", request)).request
    assert again.request_id == first.request_id
    waiting = await asyncio.to_thread(cli.call, "ListWaitlist", mpb.ListWaitlistRequest(page_size=100))
    assert [r.request_id for r in waiting.requests] == [first.request_id]
