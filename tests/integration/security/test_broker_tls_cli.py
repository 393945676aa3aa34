"""The operator's CLI over TLS to the brokers, with the services' variables
(NATS_TLS_*, REDIS_TLS_*): `streams provision`, `valkey provision` and the
`status` checks, against nats-server with a tls block and the real Valkey
behind a TLS terminator (alongside.kit.testing.tls_servers)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from alongside.cli.app import app
from alongside.cli.status import check_nats, check_redis
from alongside.kit.broker_tls import NATS_PREFIX, REDIS_PREFIX, BrokerTls
from alongside.kit.testing.tls_servers import TlsNatsServer, TlsTerminator
from tests.integration.security.conftest import Pki


@pytest.fixture
def mtls_nats(pki: Pki) -> Iterator[TlsNatsServer]:
    server = TlsNatsServer(pki.server_cert, pki.server_key, client_ca=pki.ca)
    server.start()
    yield server
    server.close()


@pytest.fixture
def admin_valkey_tls_url(pki: Pki, redis_admin_url: str) -> Iterator[str]:
    """The session's Valkey behind TLS that requires client certificates, served from a
    thread of its own (the CLI runs its own event loop); the admin's rediss:// URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    terminator = TlsTerminator(redis_admin_url, pki.server_cert, pki.server_key, client_ca=pki.ca)
    asyncio.run_coroutine_threadsafe(terminator.__aenter__(), loop).result(10)
    try:
        parts = urlsplit(redis_admin_url)
        login = parts.netloc.rpartition("@")[0]
        yield parts._replace(scheme="rediss", netloc=f"{login}@127.0.0.1:{terminator.port}").geturl()
    finally:
        asyncio.run_coroutine_threadsafe(terminator.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def client_env(pki: Pki, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}_CA_FILE": str(pki.ca),
        f"{prefix}_CERT_FILE": str(pki.client_cert),
        f"{prefix}_KEY_FILE": str(pki.client_key),
    }


def run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"ALONGSIDE_TIMEOUT": "10", **env})
    return result.exit_code, result.output


def test_streams_provision_over_tls_with_a_client_certificate(pki: Pki, mtls_nats: TlsNatsServer) -> None:
    env = {"NATS_URL": mtls_nats.url, "NAMESPACE": "tlscli"}
    code, output = run("streams", "provision", env={**env, **client_env(pki, "NATS_TLS")})
    assert code == 0, output
    code, output = run("streams", "provision", env={**env, "NATS_TLS_CA_FILE": str(pki.ca)})
    assert code == 3 and "refused this client's certificate" in output, output
    code, output = run("streams", "provision", env={**env, "NATS_URL": mtls_nats.url.replace("tls://", "nats://")})
    assert code != 0, output  # no files, plain text: the TLS-only server does not answer it
    code, output = run("streams", "provision", env={**env, **client_env(pki, "NATS_TLS"), "NATS_URL": "nats://h:1"})
    assert "NATS_TLS_* files are set but NATS_URL is not tls://" in output, output


def test_valkey_provision_over_tls_with_a_client_certificate(pki: Pki, admin_valkey_tls_url: str) -> None:
    code, output = run("valkey", "provision", env={"REDIS_URL": admin_valkey_tls_url, **client_env(pki, "REDIS_TLS")})
    assert code == 0, output
    code, output = run("valkey", "provision", env={"REDIS_URL": admin_valkey_tls_url})  # system CAs only
    assert code == 3 and "cannot reach Valkey" in output, output


def test_status_checks_reach_the_brokers_over_tls(
    pki: Pki, mtls_nats: TlsNatsServer, admin_valkey_tls_url: str
) -> None:
    nats_tls = BrokerTls(NATS_PREFIX, str(pki.ca), str(pki.client_cert), str(pki.client_key))
    assert check_nats(mtls_nats.url, 3.0, nats_tls).up
    assert not check_nats(mtls_nats.url, 3.0, BrokerTls(NATS_PREFIX)).up
    redis_tls = BrokerTls(REDIS_PREFIX, str(pki.ca), str(pki.client_cert), str(pki.client_key))
    assert check_redis(admin_valkey_tls_url, 3.0, redis_tls).up
    assert not check_redis(admin_valkey_tls_url, 3.0, BrokerTls(REDIS_PREFIX)).up
