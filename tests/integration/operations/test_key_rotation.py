"""Rotating a service's token key as docs/operations.md ("Token keys") says,
on a real matcher: with both public keys listed, tokens and audit records of
the old key and the new one all verify; with the old public key removed (as
after a compromise), its tokens are refused and the records it signed say
"signature does not verify", while they stay on the trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.auth.client import bearer_channel
from alongside.kit.auth.tokens import Minter
from alongside.kit.runtime import Runtime
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

from ..matcher.conftest import NOW, intake


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    minter: Minter

    def token(self, role: str, subject: str) -> str:
        return self.minter.mint(subject, role)


def key_pair(folder: Path, name: str) -> KeyPair:
    """As ``openssl genpkey -algorithm ed25519`` and ``openssl pkey -pubout`` make them."""
    key = ed25519.Ed25519PrivateKey.generate()
    private, public = folder / f"{name}-key.pem", folder / f"{name}-pub.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return KeyPair(private, public, Minter(key, "EdDSA", "alongside", "alongside"))


@asynccontextmanager
async def matcher(
    nats_url: str, redis_url: str, namespace: str, public: tuple[KeyPair, ...], signing: KeyPair
) -> AsyncIterator[Runtime]:
    settings = MatcherSettings.from_env(
        {},
        nats_url=nats_url,
        redis_url=redis_url,
        namespace=namespace,
        auth_public_keys=tuple(str(k.public) for k in public),
        auth_private_key=str(signing.private),
    )
    runtime = build(settings, clock=lambda: NOW)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def submit(runtime: Runtime, token: str, key: str) -> str:
    async with bearer_channel(f"127.0.0.1:{runtime.port}", token) as chan:
        reply = await matcher_pb2_grpc.MatcherServiceStub(chan).SubmitMatchRequest(intake(key))
    return reply.request.request_id


async def problems_by_actor(runtime: Runtime, token: str, actors: set[str]) -> dict[str, set[str]]:
    """Each actor's records' problems ("" for none), once every actor's records are on the trail."""
    found: dict[str, set[str]] = {}

    async def relayed() -> bool:
        async with bearer_channel(f"127.0.0.1:{runtime.port}", token) as chan:
            page = await audit_pb2_grpc.AuditServiceStub(chan).ListAuditRecords(
                audit_pb2.ListAuditRecordsRequest(page_size=500)
            )
        found.clear()
        for record in page.records:
            found.setdefault(record.actor, set()).add(record.problem)
        return actors <= set(found)

    await eventually(relayed, timeout=20, what="the actors' audit records on the trail")
    return {actor: found[actor] for actor in actors}


async def test_a_token_key_rotates_without_downtime_and_a_removed_key_stops_verifying(
    nats_url: str, redis_url: str, namespace: str, tmp_path: Path
) -> None:
    old, new = key_pair(tmp_path, "old"), key_pair(tmp_path, "new")

    # Before: the old key signs and verifies.
    async with matcher(nats_url, redis_url, namespace, (old,), old) as running:
        await submit(running, old.token("intake", "staff-old"), "rot-1")

    # Steps 2 and 3: both public keys listed, the new private key signs.
    async with matcher(nats_url, redis_url, namespace, (old, new), new) as running:
        await submit(running, old.token("intake", "staff-old-token"), "rot-2")  # a token the old key signed
        await submit(running, new.token("intake", "staff-new"), "rot-3")
        seen = await problems_by_actor(
            running, new.token("manager", "m-1"), {"staff-old", "staff-old-token", "staff-new"}
        )
        assert seen == {"staff-old": {""}, "staff-old-token": {""}, "staff-new": {""}}

    # After a compromise: the old public key removed.
    async with matcher(nats_url, redis_url, namespace, (new,), new) as running:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await submit(running, old.token("intake", "staff-old"), "rot-4")
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        seen = await problems_by_actor(running, new.token("manager", "m-1"), {"staff-old", "staff-new"})
        assert seen == {"staff-old": {"signature does not verify"}, "staff-new": {""}}
