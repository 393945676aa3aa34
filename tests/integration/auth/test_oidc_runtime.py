"""A real service accepts its OpenID provider's tokens, picks up a rotated
key while running, and refuses a token from a key the provider never
published; its own service tokens keep working beside them."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from alongside.api.matcher.v1 import matcher_pb2, matcher_pb2_grpc
from alongside.kit.auth.client import bearer_channel
from alongside.kit.testing.auth import TEST_AUTH, token
from alongside.kit.testing.oidc_provider import OidcProvider, SigningKey
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings


async def list_peers(port: int, bearer: str) -> grpc.StatusCode:
    async with bearer_channel(f"127.0.0.1:{port}", bearer) as channel:
        try:
            await matcher_pb2_grpc.MatcherServiceStub(channel).ListPeers(matcher_pb2.ListPeersRequest(), timeout=10)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


@pytest.mark.slow
async def test_matcher_verifies_the_providers_tokens(
    nats_url: str, redis_url: str, namespace: str, oidc_provider: OidcProvider
) -> None:
    settings = MatcherSettings.from_env(
        {"AUTH_OIDC_ISSUER": oidc_provider.issuer, "AUTH_JWKS_REFRESH_SECONDS": "0.5"},
        **TEST_AUTH,
        nats_url=nats_url,
        redis_url=redis_url,
        namespace=namespace,
    )
    runtime = build(settings)
    port = await runtime.start()
    try:
        assert await list_peers(port, oidc_provider.mint({"sub": "m-1", "role": "manager"})) == grpc.StatusCode.OK
        assert await list_peers(port, oidc_provider.mint({"role": "peer"})) == grpc.StatusCode.PERMISSION_DENIED
        rotated = oidc_provider.add_key(ed25519.Ed25519PrivateKey.generate())
        fresh = oidc_provider.mint({"sub": "m-2", "role": "manager"}, key=rotated)
        # Refused until the refresh window since the first fetch has passed, then picked up.
        deadline = time.monotonic() + 10
        while (code := await list_peers(port, fresh)) != grpc.StatusCode.OK and time.monotonic() < deadline:
            assert code == grpc.StatusCode.UNAUTHENTICATED
            await asyncio.sleep(0.1)
        assert code == grpc.StatusCode.OK
        assert oidc_provider.hits["/jwks"] == 2
        stranger = SigningKey("k-stranger", ed25519.Ed25519PrivateKey.generate())
        forged = oidc_provider.mint({"role": "admin"}, key=stranger)
        assert await list_peers(port, forged) == grpc.StatusCode.UNAUTHENTICATED
        assert await list_peers(port, token("manager", "m-3")) == grpc.StatusCode.OK  # HS256 beside the JWKS
    finally:
        await runtime.stop()
