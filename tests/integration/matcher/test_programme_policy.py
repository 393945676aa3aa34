"""Programme policy through a real matcher: the same roster and intakes under the built-in
policy and under docs/examples/policy.yaml give different shortlists, explanations and
batch proposals, each stamped with the policy's digest, and GetPolicy shows what runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from prometheus_client import REGISTRY

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

from .conftest import NOW, Matcher, intake, peer, upsert

EXAMPLE = str(Path(__file__).parents[3] / "docs" / "examples" / "policy.yaml")
SPECIALIST = [pb.PEER_TYPE_PEER_SPECIALIST]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture(params=["built-in", "example"])
async def policed(request: pytest.FixtureRequest, nats_url: str, redis_url: str, namespace: str
                  ) -> AsyncIterator[tuple[str, Matcher, Clock]]:
    policy_file = "" if request.param == "built-in" else EXAMPLE
    settings = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, policy_file=policy_file
    )
    clock = Clock()
    runtime: Runtime = build(settings, clock=clock)
    await runtime.start()
    try:
        async with channel(f"127.0.0.1:{runtime.port}", role="admin") as chan:
            yield request.param, Matcher(runtime, matcher_pb2_grpc.MatcherServiceStub(chan), namespace), clock
    finally:
        await runtime.stop()


async def roster(m: Matcher) -> None:
    youth_and_adults = [pb.AGE_BAND_YOUTH, pb.AGE_BAND_ADULT]
    await upsert(
        m,
        peer("ps-cert", types=SPECIALIST, certifications=["CPSS"], age_groups=youth_and_adults, capacity=1),
        peer("ps-plain", types=SPECIALIST, age_groups=youth_and_adults, capacity=1),
    )


def youth(key: str) -> pb.SubmitMatchRequestRequest:
    req = intake(key, peer_types=SPECIALIST)
    req.participant.age_band = pb.AGE_BAND_YOUTH
    return req


async def test_get_policy_shows_what_the_matcher_runs(policed: tuple[str, Matcher, Clock]) -> None:
    which, m, _ = policed
    policy = (await m.stub.GetPolicy(pb.GetPolicyRequest())).policy
    assert len(policy.digest) == 12
    # The gauge an alert compares across replicas: the digest as a number.
    assert REGISTRY.get_sample_value("alongside_matcher_policy_digest") == int(policy.digest, 16)
    if which == "built-in":
        assert (policy.programme, policy.source) == ("default", "built in")
        assert list(policy.certification_strengths) == [pb.STRENGTH_REQUIRED]
        assert (policy.batch_urgency_weight, policy.batch_wait_weight_per_week) == (5.0, 1.0)
        assert not any(rule.certifications for rule in policy.age_rules)
    else:
        assert (policy.programme, policy.source) == ("riverside-youth-and-family", EXAMPLE)
        assert sorted(policy.certification_strengths) == [pb.STRENGTH_REQUIRED, pb.STRENGTH_PREFERRED]
        assert (policy.batch_urgency_weight, policy.batch_wait_weight_per_week) == (2.0, 3.0)
        certified = [r for r in policy.age_rules if r.certifications]
        assert [(r.peer_type, list(r.age_bands), list(r.certifications)) for r in certified] == [
            (pb.PEER_TYPE_PEER_SPECIALIST, [pb.AGE_BAND_YOUTH], ["CPSS"])
        ]
    weights = {w.criterion: w.weight for w in policy.weights}
    assert weights["language"] == 3.0
    assert weights["certification"] == (0.0 if which == "built-in" else 2.5)


async def test_the_same_intake_gets_the_policys_shortlist_and_explanation(
    policed: tuple[str, Matcher, Clock],
) -> None:
    which, m, _ = policed
    await roster(m)
    digest = (await m.stub.GetPolicy(pb.GetPolicyRequest())).policy.digest
    state = (await m.stub.SubmitMatchRequest(youth("y1"))).request
    assert state.policy_digest == digest
    if which == "built-in":
        assert state.status == pb.REQUEST_STATUS_WAITLISTED
        assert state.waitlist_reason.summary.startswith("Serves youth (12-17) in a peer type allowed for that age")
    else:
        assert [c.peer_id for c in state.candidates] == ["ps-cert"]
        note = state.candidates[0].contributions[0]
        assert note.text == "Serves youth (12-17) as peer specialist holding CPSS, as this programme allows"
        assert note.phrase.template == "Serves {age} as {types} holding {names}, as this programme allows"


async def test_a_preferred_certification_is_refused_or_weighed_by_the_policy(
    policed: tuple[str, Matcher, Clock],
) -> None:
    which, m, _ = policed
    await roster(m)
    req = intake("c1", peer_types=SPECIALIST)
    req.preferences.certifications.values.append("CPSS")
    req.preferences.certifications.strength = pb.STRENGTH_PREFERRED
    if which == "built-in":
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await m.stub.SubmitMatchRequest(req)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "preferences.certifications.strength" in (err.value.details() or "")
        return
    state = (await m.stub.SubmitMatchRequest(req)).request
    assert [c.peer_id for c in state.candidates] == ["ps-cert", "ps-plain"]
    texts = [x.text for x in state.candidates[0].contributions]
    assert "Holds CPSS, a certification the participant prefers" in texts


async def test_the_batch_weighs_urgency_and_waiting_by_the_policy(policed: tuple[str, Matcher, Clock]) -> None:
    """One adult place: the built-in policy proposes the urgent newcomer, the example
    policy (time waited over urgency) the routine request that waited three weeks."""
    which, m, clock = policed
    await upsert(m, peer("rc", capacity=0))
    clock.now = NOW - timedelta(weeks=3)
    old = (await m.stub.SubmitMatchRequest(intake("old", urgency=pb.URGENCY_ROUTINE))).request.request_id
    clock.now = NOW
    new = (await m.stub.SubmitMatchRequest(intake("new", urgency=pb.URGENCY_URGENT))).request.request_id
    await upsert(m, peer("rc", capacity=1))
    run = (
        await m.stub.RunBatchMatch(pb.RunBatchMatchRequest(idempotency_key="b", request_ids=[old, new]))
    ).run
    assert run.policy_digest == (await m.stub.GetPolicy(pb.GetPolicyRequest())).policy.digest
    assert [p.request_id for p in run.proposals] == ([new] if which == "built-in" else [old])


async def test_get_policy_is_for_staff(policed: tuple[str, Matcher, Clock]) -> None:
    _, m, _ = policed
    port = m.runtime.port
    for role in ("intake", "manager"):
        async with channel(f"127.0.0.1:{port}", role=role) as chan:
            await matcher_pb2_grpc.MatcherServiceStub(chan).GetPolicy(pb.GetPolicyRequest())
    async with channel(f"127.0.0.1:{port}", role="peer", subject="p-1") as chan:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await matcher_pb2_grpc.MatcherServiceStub(chan).GetPolicy(pb.GetPolicyRequest())
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
