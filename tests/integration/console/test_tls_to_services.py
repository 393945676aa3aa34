"""The console reaches the services over TLS and mTLS with the kit's client
credentials, and every call still carries the person's bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.console.rpc import Backends
from alongside.console.settings import ConsoleSettings
from alongside.kit.settings import ConfigError
from alongside.kit.testing.certs import Authority


class Matcher(matcher_pb2_grpc.MatcherServiceServicer):
    """Answers GetIntake with the bearer token it was given, as the request id."""

    async def GetIntake(self, request: mpb.GetIntakeRequest, context: Any) -> mpb.GetIntakeResponse:
        token = dict(context.invocation_metadata()).get("authorization", "")
        return mpb.GetIntakeResponse(request=mpb.MatchRequest(request_id=token))


@pytest.fixture
async def tls_matcher(tmp_path: Path) -> AsyncIterator[tuple[str, Authority, Path]]:
    ca = Authority()
    cert, key = ca.issue("matcher").write(tmp_path, "matcher")
    server = aio.server()
    matcher_pb2_grpc.add_MatcherServiceServicer_to_server(Matcher(), server)
    creds = grpc.ssl_server_credentials(
        [(key.read_bytes(), cert.read_bytes())], root_certificates=ca.cert_pem, require_client_auth=True
    )
    port = server.add_secure_port("127.0.0.1:0", creds)
    await server.start()
    yield f"127.0.0.1:{port}", ca, tmp_path
    await server.stop(0)


async def test_the_console_calls_a_service_over_mtls_with_the_persons_token(
    tls_matcher: tuple[str, Authority, Path],
) -> None:
    address, ca, folder = tls_matcher
    client_cert, client_key = ca.issue("console", server=False).write(folder, "console")
    settings = ConsoleSettings.from_env(
        {
            "MATCHER_ADDR": address,
            "TLS_CA_FILE": str(ca.write(folder)),
            "TLS_CLIENT_CERT_FILE": str(client_cert),
            "TLS_CLIENT_KEY_FILE": str(client_key),
        }
    )
    backends = Backends(settings)
    backends.open()
    try:
        found = await backends.as_person("the-persons-token").intake("req-1")
        assert found.request_id == "Bearer the-persons-token"
    finally:
        await backends.close()


async def test_without_a_client_certificate_the_mtls_service_refuses(tls_matcher: tuple[str, Authority, Path]) -> None:
    address, ca, folder = tls_matcher
    settings = ConsoleSettings.from_env(
        {"MATCHER_ADDR": address, "TLS_CA_FILE": str(ca.write(folder)), "RPC_TIMEOUT_SECONDS": "3"}
    )
    backends = Backends(settings)
    backends.open()
    try:
        with pytest.raises(aio.AioRpcError) as refused:
            await backends.as_person("t").intake("req-1")
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await backends.close()


def test_a_missing_tls_file_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    settings = ConsoleSettings.from_env({"TLS_CA_FILE": str(tmp_path / "nowhere.pem")})
    with pytest.raises(ConfigError, match="TLS_CA_FILE"):
        Backends(settings).open()
