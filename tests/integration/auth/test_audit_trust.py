"""The audit trail cannot be forged, broken or skipped: the reader trusts the
subject a record came on and its signature, survives what it cannot read,
and every committed change carries its record even while NATS is down."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from prometheus_client import REGISTRY

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.auth.signing import SignatureCheck, Signer
from alongside.kit.auth.tokens import Key
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_SECRET, channel
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from alongside.kit.testing.wait import eventually

from ..matcher.conftest import NOW, intake, start_matcher
from .test_audit import listed, records

AUDIT = next(s for s in CATALOGUE if s.name == "AUDIT")


@pytest.fixture
async def matcher(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Runtime]:
    runtime = await start_matcher(nats_url, redis_url, namespace, lambda: NOW)
    yield runtime
    await runtime.stop()


async def publish(runtime: Runtime, service: str, body: bytes) -> int:
    """Put a message on ``service``'s audit subject as a broker admin would."""
    assert runtime.deps is not None
    ack = await runtime.deps.js.publish(f"{runtime.settings.namespace}.audit.{service}", body)
    return int(ack.seq)


async def submit(runtime: Runtime, participant: str) -> str:
    async with channel(f"127.0.0.1:{runtime.port}", role="intake", subject="staff-1") as chan:
        reply = await matcher_pb2_grpc.MatcherServiceStub(chan).SubmitMatchRequest(intake(participant))
    return str(reply.request.request_id)


def batch(*records: audit_pb2.SignedAuditRecord) -> bytes:
    return audit_pb2.AuditBatch(signed_records=records).SerializeToString()


def record(**fields: str) -> audit_pb2.AuditRecord:
    base = {"actor": "staff-1", "role": "intake", "action": "/alongside.matcher.v1.MatcherService/GetIntake"}
    return audit_pb2.AuditRecord(**{**base, **fields}, outcome="OK")


async def test_an_undecodable_message_is_shown_as_unreadable_and_breaks_nothing(matcher: Runtime) -> None:
    request_id = await submit(matcher, "a1")
    before = REGISTRY.get_sample_value("alongside_audit_problems_total", {"outcome": "unreadable"}) or 0.0
    seq = await publish(matcher, "scheduler", b"\xff\xfenot-a-batch")
    trail = await records(matcher, 2)
    assert [(r.sequence, r.service, r.problem) for r in trail if r.problem] == [
        (seq, "scheduler", f"unreadable record at sequence {seq}")
    ]
    # Every filter and page still answers.
    assert [r.object_id for r in await listed(matcher, object_id=request_id) if not r.problem] == [request_id]
    assert await listed(matcher, actor="nobody", page_size=1)
    after = REGISTRY.get_sample_value("alongside_audit_problems_total", {"outcome": "unreadable"}) or 0.0
    assert after > before


async def test_a_record_belongs_to_the_service_whose_subject_it_came_on(matcher: Runtime) -> None:
    """A genuine matcher record replayed on the scheduler's subject is the
    scheduler's, and its signature (made for the matcher) does not verify."""
    request_id = await submit(matcher, "b1")
    (genuine,) = await records(matcher, 1, object_id=request_id)
    assert genuine.service == "matcher" and genuine.problem == ""
    assert matcher.deps is not None
    raw = await matcher.deps.js.get_msg(stream_name(matcher.settings.namespace, AUDIT), genuine.sequence)
    seq = await publish(matcher, "scheduler", raw.data or b"")
    moved = [r for r in await records(matcher, 2, object_id=request_id) if r.sequence == seq]
    assert [(r.service, r.problem) for r in moved] == [("scheduler", "signature does not verify")]


async def test_forged_tampered_and_unsigned_records_say_so(matcher: Runtime) -> None:
    signer = Signer(TEST_SECRET)
    good = record(object_id="obj-good").SerializeToString()
    tampered = record(object_id="obj-good", actor="someone-else").SerializeToString()
    stranger = Signer("another-secret-that-nobody-here-trusts-0123456789")
    forged = record(object_id="obj-forged").SerializeToString()
    await publish(
        matcher,
        "matcher",
        batch(
            audit_pb2.SignedAuditRecord(record=good, signature=signer.sign("matcher", good)),
            audit_pb2.SignedAuditRecord(record=tampered, signature=signer.sign("matcher", good)),
            audit_pb2.SignedAuditRecord(record=forged, signature=stranger.sign("matcher", forged)),
            audit_pb2.SignedAuditRecord(record=forged),
        ),
    )
    legacy = audit_pb2.AuditBatch(records=[record(object_id="obj-legacy")]).SerializeToString()
    await publish(matcher, "notifier", legacy)
    trail = await records(matcher, 5)
    assert [(r.object_id, r.actor, r.problem) for r in trail] == [
        ("obj-good", "staff-1", ""),
        ("obj-good", "someone-else", "signature does not verify"),
        ("obj-forged", "staff-1", "signature does not verify"),
        ("obj-forged", "staff-1", "unsigned"),
        ("obj-legacy", "staff-1", "unsigned"),
    ]


def test_a_signature_binds_the_service_and_the_bytes() -> None:
    signer = Signer(TEST_SECRET)
    check = SignatureCheck([Key("HS256", TEST_SECRET)])
    signature = signer.sign("matcher", b"record")
    assert check.verify("matcher", b"record", signature)
    assert not check.verify("scheduler", b"record", signature)
    assert not check.verify("matcher", b"record!", signature)
    assert not check.verify("matcher", b"record", signature[:-2] + "AA")
    assert not check.verify("matcher", b"record", "EdDSA.0000.AAAA")


def test_ed25519_signatures_verify_with_the_public_key_only() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    signature = Signer(private).sign("scheduler", b"r")
    assert SignatureCheck([Key("EdDSA", private.public_key())]).verify("scheduler", b"r", signature)
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    assert not SignatureCheck([Key("EdDSA", other)]).verify("scheduler", b"r", signature)


@pytest.mark.serial  # no call waits 2 s
async def test_intake_goes_on_while_nats_is_down_and_its_records_follow(
    own_nats: NatsServer, redis_url: str, namespace: str
) -> None:
    """The record commits with the change in Redis; NATS only delays it."""
    runtime = await start_matcher(own_nats.url, redis_url, namespace, lambda: NOW)
    try:
        assert own_nats.proc is not None
        os.kill(own_nats.proc.pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            request_ids = [await submit(runtime, f"n{i}") for i in range(3)]
            assert time.monotonic() - began < 2.0  # no call waits on the broker
        finally:
            os.kill(own_nats.proc.pid, signal.SIGCONT)
        trail = await records(runtime, 3, action="SubmitMatchRequest")
        assert sorted(r.object_id for r in trail) == sorted(request_ids)
        assert all(r.outcome == "OK" and not r.problem for r in trail)
    finally:
        await runtime.stop()


async def test_a_call_whose_client_gave_up_is_logged_as_such_not_ok(
    own_valkey: ValkeyServer, nats_url: str, namespace: str
) -> None:
    runtime = await start_matcher(nats_url, own_valkey.url, namespace, lambda: NOW)
    method = "/alongside.matcher.v1.MatcherService/GetIntake"

    def count(code: str) -> float:
        return REGISTRY.get_sample_value("alongside_rpcs_total", {"method": method, "code": code}) or 0.0

    gone_before = count("DEADLINE_EXCEEDED") + count("CANCELLED")
    ok_before = count("OK")
    try:
        request_id = await submit(runtime, "d1")
        assert own_valkey.proc is not None
        os.kill(own_valkey.proc.pid, signal.SIGSTOP)
        try:
            async with channel(f"127.0.0.1:{runtime.port}", role="intake", subject="staff-1") as chan:
                stub = matcher_pb2_grpc.MatcherServiceStub(chan)
                with pytest.raises(grpc.aio.AioRpcError) as info:
                    await stub.GetIntake(pb.GetIntakeRequest(request_id=request_id), timeout=0.5)
            assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

            async def counted() -> bool:
                return count("DEADLINE_EXCEEDED") + count("CANCELLED") > gone_before

            await eventually(counted, what="the abandoned call counted as such")
            assert count("OK") == ok_before
        finally:
            os.kill(own_valkey.proc.pid, signal.SIGCONT)
    finally:
        await runtime.stop()


@pytest.mark.parametrize("token", ["².1", "1.²", "x.1", "1", "-1.0", "1.99999999999"])
async def test_a_page_token_it_did_not_issue_is_refused(matcher: Runtime, token: str) -> None:
    async with channel(f"127.0.0.1:{matcher.port}", role="manager", subject="m-1") as chan:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await audit_pb2_grpc.AuditServiceStub(chan).ListAuditRecords(
                audit_pb2.ListAuditRecordsRequest(page_token=token)
            )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in (info.value.details() or "")
