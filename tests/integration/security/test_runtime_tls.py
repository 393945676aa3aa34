"""A real service started with TLS settings serves only mTLS clients."""

from __future__ import annotations

from alongside.kit.grpc.tls import channel_credentials
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings
from tests.integration.security.conftest import Pki
from tests.integration.security.test_grpc_tls import OK, UNAVAILABLE, check


async def test_matcher_with_mtls_settings_refuses_other_clients(
    pki: Pki, nats_url: str, redis_url: str, namespace: str
) -> None:
    settings = MatcherSettings.from_env(
        {
            "TLS_CERT_FILE": str(pki.server_cert),
            "TLS_KEY_FILE": str(pki.server_key),
            "TLS_CLIENT_CA_FILE": str(pki.ca),
        },
        **TEST_AUTH,
        nats_url=nats_url,
        redis_url=redis_url,
        namespace=namespace,
        health_interval_seconds=0.1,
    )
    runtime = build(settings)
    await runtime.start()
    try:
        right = channel_credentials(str(pki.ca), str(pki.client_cert), str(pki.client_key))

        async def serving() -> bool:
            return await check(runtime.port, right) == OK

        assert await check(runtime.port, None) == UNAVAILABLE, "the runtime ignores TLS_* (see server_credentials)"
        await eventually(serving, timeout=10, what="matcher serving over mTLS")
        assert await check(runtime.port, channel_credentials(str(pki.ca))) == UNAVAILABLE
        wrong_ca = channel_credentials(str(pki.ca), str(pki.rogue_cert), str(pki.rogue_key))
        assert await check(runtime.port, wrong_ca) == UNAVAILABLE
    finally:
        await runtime.stop()
