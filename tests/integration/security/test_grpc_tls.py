"""A gRPC server with TLS refuses plaintext clients; with mTLS it also refuses
clients without a certificate or with one another CA signed. Rotated
certificate files take effect on the next connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from alongside.kit.grpc.server import Health, create_server
from alongside.kit.grpc.tls import channel_credentials, server_credentials
from alongside.kit.settings import Settings
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.certs import Authority
from tests.integration.security.conftest import Pki

OK = grpc.StatusCode.OK
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
NOT_SERVING = grpc.StatusCode.FAILED_PRECONDITION  # it answered, but not SERVING (yet)


@asynccontextmanager
async def health_server(cert: Path, key: Path, client_ca: Path | None = None) -> AsyncIterator[int]:
    settings = Settings.from_env(
        {},
        **TEST_AUTH,
        service_name="test",
        tls_cert_file=str(cert),
        tls_key_file=str(key),
        tls_client_ca_file=str(client_ca or ""),
    )
    server, port = create_server("127.0.0.1:0", credentials=server_credentials(settings))
    health = Health(server, ())
    await server.start()
    await health.set(True)
    try:
        yield port
    finally:
        await server.stop(0)


async def check(port: int, credentials: grpc.ChannelCredentials | None) -> grpc.StatusCode:
    """The status of one health check over a fresh connection: OK if it answered
    SERVING, NOT_SERVING if it answered otherwise (a service still checking its
    dependencies), else the call's error code."""
    target = f"127.0.0.1:{port}"
    # A connection of its own, so every check makes a new TLS handshake.
    options = [("grpc.use_local_subchannel_pool", 1)]
    if credentials is None:
        channel = grpc.aio.insecure_channel(target, options=options)
    else:
        channel = grpc.aio.secure_channel(target, credentials, options=options)
    async with channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return OK if reply.status == health_pb2.HealthCheckResponse.SERVING else NOT_SERVING


async def test_tls_server_refuses_plaintext(pki: Pki) -> None:
    async with health_server(pki.server_cert, pki.server_key) as port:
        assert await check(port, channel_credentials(str(pki.ca))) == OK
        assert await check(port, None) == UNAVAILABLE
        # A client that does not trust the server's CA hangs up too.
        assert await check(port, channel_credentials(str(pki.rogue_ca))) == UNAVAILABLE


async def test_mtls_server_accepts_only_certificates_its_ca_signed(pki: Pki) -> None:
    async with health_server(pki.server_cert, pki.server_key, client_ca=pki.ca) as port:
        right = channel_credentials(str(pki.ca), str(pki.client_cert), str(pki.client_key))
        no_cert = channel_credentials(str(pki.ca))
        wrong_ca = channel_credentials(str(pki.ca), str(pki.rogue_cert), str(pki.rogue_key))
        assert await check(port, right) == OK
        assert await check(port, None) == UNAVAILABLE
        assert await check(port, no_cert) == UNAVAILABLE
        assert await check(port, wrong_ca) == UNAVAILABLE


async def test_rotated_certificates_apply_to_new_connections(pki: Pki, tmp_path: Path) -> None:
    old_ca, new_ca = Authority("old"), Authority("new")
    cert, key = old_ca.issue("matcher").write(tmp_path, "server")
    trusts_old = channel_credentials(str(old_ca.write(tmp_path, "old-ca")))
    trusts_new = channel_credentials(str(new_ca.write(tmp_path, "new-ca")))
    async with health_server(cert, key) as port:
        assert await check(port, trusts_old) == OK
        rotated = new_ca.issue("matcher")
        cert.write_bytes(rotated.cert_pem)  # half-way: the key does not match yet
        assert await check(port, trusts_old) == OK
        key.write_bytes(rotated.key_pem)
        assert await check(port, trusts_new) == OK
        assert await check(port, trusts_old) == UNAVAILABLE
