"""TLS to the brokers with a private CA (alongside.kit.broker_tls), against
real servers: nats-server with a tls block, and a real Valkey behind a TLS
terminator (the pip-installed valkey-server has no TLS; see
alongside.kit.testing.tls_servers).

A service verifies the brokers against NATS_TLS_CA_FILE / REDIS_TLS_CA_FILE,
presents its client certificate where the broker requires one, and refuses
a broker whose certificate is not from the CA, or that offers no TLS at all,
with a clear error and never a fallback to plain text.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import nats
import pytest
from nats.js import JetStreamContext
from redis.exceptions import ConnectionError as RedisConnectionError

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit import nats as kit_nats
from alongside.kit import redis as kit_redis
from alongside.kit.broker_tls import NATS_PREFIX, REDIS_PREFIX, BrokerTls
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.testing.auth import AUTH_ENV, TEST_AUTH, channel
from alongside.kit.testing.certs import Authority
from alongside.kit.testing.processes import Child, is_relay
from alongside.kit.testing.processes import children as child_pids
from alongside.kit.testing.tls_servers import TlsNatsServer, TlsTerminator
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings
from tests.integration.matcher.conftest import peer
from tests.integration.security.conftest import Pki


@pytest.fixture
def mtls_nats(pki: Pki) -> Iterator[TlsNatsServer]:
    """nats-server with a certificate from the CA, requiring client certificates from it."""
    server = TlsNatsServer(pki.server_cert, pki.server_key, client_ca=pki.ca)
    server.start()
    yield server
    server.close()


@pytest.fixture
def rogue_nats(pki: Pki) -> Iterator[TlsNatsServer]:
    """nats-server over TLS, but with a certificate from a CA the services do not trust."""
    server = TlsNatsServer(pki.rogue_cert, pki.rogue_key)
    server.start()
    yield server
    server.close()


@pytest.fixture
async def mtls_valkey(pki: Pki, redis_url: str) -> AsyncIterator[tuple[TlsTerminator, str]]:
    """The session's Valkey behind TLS that requires a client certificate; and its rediss:// URL."""
    async with TlsTerminator(redis_url, pki.server_cert, pki.server_key, client_ca=pki.ca) as terminator:
        parts = urlsplit(redis_url)
        login = parts.netloc.rpartition("@")[0]
        netloc = f"{login}@127.0.0.1:{terminator.port}" if login else f"127.0.0.1:{terminator.port}"
        yield terminator, parts._replace(scheme="rediss", netloc=netloc).geturl()


def nats_tls(pki: Pki, *, client_cert: bool = True) -> BrokerTls:
    if not client_cert:
        return BrokerTls(NATS_PREFIX, str(pki.ca))
    return BrokerTls(NATS_PREFIX, str(pki.ca), str(pki.client_cert), str(pki.client_key))


def redis_tls(pki: Pki) -> BrokerTls:
    return BrokerTls(REDIS_PREFIX, str(pki.ca), str(pki.client_cert), str(pki.client_key))


async def peer_events(js: JetStreamContext, namespace: str) -> list[Event]:
    spec = next(s for s in CATALOGUE if s.aggregate == "peer")
    name = stream_name(namespace, spec)
    info = await js.stream_info(name)
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
        raw = await js.get_msg(name, seq)
        found.append(Event.from_headers(dict(raw.headers or {}), raw.data or b""))
    return found


async def test_a_matcher_process_works_over_tls_to_both_brokers(
    pki: Pki, mtls_nats: TlsNatsServer, mtls_valkey: tuple[TlsTerminator, str], namespace: str
) -> None:
    terminator, valkey_url = mtls_valkey
    env = {
        **AUTH_ENV,
        "NATS_URL": mtls_nats.url,
        "NATS_TLS_CA_FILE": str(pki.ca),
        "NATS_TLS_CERT_FILE": str(pki.client_cert),
        "NATS_TLS_KEY_FILE": str(pki.client_key),
        "REDIS_URL": valkey_url,
        "REDIS_TLS_CA_FILE": str(pki.ca),
        "REDIS_TLS_CERT_FILE": str(pki.client_cert),
        "REDIS_TLS_KEY_FILE": str(pki.client_key),
        "NAMESPACE": namespace,
        "OUTBOX_RELAY": "process",  # the relay child connects with the same settings
    }
    service = await asyncio.to_thread(Child, "alongside.matcher", env)
    nc = await kit_nats.connect(mtls_nats.url, "test", tls=nats_tls(pki))
    try:
        async with channel(f"127.0.0.1:{service.port}", role="admin") as chan:
            stub = matcher_pb2_grpc.MatcherServiceStub(chan)
            await stub.UpsertPeer(pb.UpsertPeerRequest(idempotency_key="tls-1", peer=peer("tls-peer-1")))
            got = await stub.GetPeer(pb.GetPeerRequest(peer_id="tls-peer-1"))
        assert got.peer.peer_id == "tls-peer-1"  # written through rediss://, read back

        async def published() -> bool:
            return [e.subject for e in await peer_events(nc.jetstream(), namespace)] == ["tls-peer-1"]

        await eventually(published, timeout=15, what="peer.upserted on the stream, relayed over tls://")
        assert any(is_relay(pid) for pid in child_pids(service.proc.pid))
        assert terminator.handshakes >= 1  # Valkey was reached through TLS only
    finally:
        await nc.close()
        await asyncio.to_thread(service.close)


async def test_a_server_certificate_from_another_ca_is_refused_at_once(pki: Pki, rogue_nats: TlsNatsServer) -> None:
    started = asyncio.get_running_loop().time()
    with pytest.raises(ConnectionError, match=r"certificate does not verify.*NATS_TLS_CA_FILE"):
        await kit_nats.connect(rogue_nats.url, "test", tls=nats_tls(pki))
    assert asyncio.get_running_loop().time() - started < 5  # no 30 s of retries for what no retry mends


async def test_a_server_certificate_for_another_host_is_refused(tmp_path: Path) -> None:
    ca = Authority("Programme CA")
    cert, key = ca.issue("nats", client=False, hosts=("nats.example.org",)).write(tmp_path, "nats")
    server = TlsNatsServer(cert, key)  # from the trusted CA, but for another name than 127.0.0.1
    server.start()
    try:
        with pytest.raises(ConnectionError, match=r"does not verify \(IP address mismatch.*host in NATS_URL"):
            await kit_nats.connect(server.url, "test", tls=BrokerTls(NATS_PREFIX, str(ca.write(tmp_path))))
    finally:
        server.close()


async def test_a_matcher_process_refuses_a_rogue_nats_with_a_clear_error(
    pki: Pki, rogue_nats: TlsNatsServer, redis_url: str, namespace: str
) -> None:
    env = {**AUTH_ENV, "NATS_URL": rogue_nats.url, "NATS_TLS_CA_FILE": str(pki.ca)}
    with pytest.raises(RuntimeError, match="certificate does not verify") as failed:
        await asyncio.to_thread(Child, "alongside.matcher", {**env, "REDIS_URL": redis_url, "NAMESPACE": namespace})
    assert "exited with" in str(failed.value)


async def test_tls_to_a_plain_text_server_is_refused_not_downgraded(pki: Pki, nats_url: str) -> None:
    # The session's nats-server offers no TLS. Stock nats-py, given tls:// and a
    # context, would carry on in plain text (it upgrades only when the server's
    # INFO asks): shown first, as the reason kit connects TLS-first.
    plain_port = urlsplit(nats_url).port
    downgraded = await nats.connect(f"tls://127.0.0.1:{plain_port}", tls=nats_tls(pki).context(), connect_timeout=2)
    await downgraded.close()
    with pytest.raises(ConnectionError, match="no TLS handshake with NATS"):
        await kit_nats.connect(f"tls://127.0.0.1:{plain_port}", "test", tls=nats_tls(pki), startup_timeout_s=5)


@pytest.mark.serial  # a 1 s start-up deadline, held within 4 s
async def test_the_start_up_deadline_holds(unused_tcp_port: int) -> None:
    # nats-py, told to reconnect forever, retried a first connection forever too:
    # the start-up deadline was never reached (a service waited for NATS for good).
    started = asyncio.get_running_loop().time()
    with pytest.raises(ConnectionError, match="cannot reach NATS at start-up within 1 s"):
        await kit_nats.connect(f"nats://127.0.0.1:{unused_tcp_port}", "test", startup_timeout_s=1)
    assert asyncio.get_running_loop().time() - started < 4


async def test_mtls_nats_refuses_a_client_without_a_certificate_from_its_ca(pki: Pki, mtls_nats: TlsNatsServer) -> None:
    with pytest.raises(ConnectionError, match=r"refused this client's certificate.*NATS_TLS_CERT_FILE"):
        await kit_nats.connect(mtls_nats.url, "test", tls=nats_tls(pki, client_cert=False))
    rogue = BrokerTls(NATS_PREFIX, str(pki.ca), str(pki.rogue_cert), str(pki.rogue_key))
    with pytest.raises(ConnectionError, match="refused this client's certificate"):
        await kit_nats.connect(mtls_nats.url, "test", tls=rogue)
    nc = await kit_nats.connect(mtls_nats.url, "test", tls=nats_tls(pki))  # the same CA, with the certificate
    await nc.close()


async def test_valkey_over_tls_with_the_private_ca_and_a_client_certificate(
    pki: Pki, mtls_valkey: tuple[TlsTerminator, str]
) -> None:
    _, url = mtls_valkey
    r = kit_redis.client(url, tls=redis_tls(pki))
    try:
        assert await r.ping()
    finally:
        await r.aclose()


async def test_a_service_stops_at_once_when_valkey_certificate_is_from_another_ca(
    pki: Pki, nats_url: str, mtls_valkey: tuple[TlsTerminator, str], namespace: str
) -> None:
    _, url = mtls_valkey
    env = {
        "REDIS_TLS_CA_FILE": str(pki.rogue_ca),
        "REDIS_TLS_CERT_FILE": str(pki.client_cert),
        "REDIS_TLS_KEY_FILE": str(pki.client_key),
    }
    settings = MatcherSettings.from_env(env, **TEST_AUTH, nats_url=nats_url, redis_url=url, namespace=namespace)
    runtime = build(settings)
    started = asyncio.get_running_loop().time()
    with pytest.raises(ConnectionError, match=r"Valkey's certificate does not verify.*REDIS_TLS_CA_FILE"):
        await runtime.start()
    assert asyncio.get_running_loop().time() - started < 5  # not the 30 s a Valkey that is not up yet gets


async def test_valkey_refuses_or_is_refused_without_the_right_certificates(
    pki: Pki, mtls_valkey: tuple[TlsTerminator, str]
) -> None:
    _, url = mtls_valkey
    cases = {
        "system CAs only": BrokerTls(REDIS_PREFIX),
        "no client certificate": BrokerTls(REDIS_PREFIX, str(pki.ca)),
        "another CA": BrokerTls(REDIS_PREFIX, str(pki.rogue_ca), str(pki.rogue_cert), str(pki.rogue_key)),
    }
    for case, tls in cases.items():
        r = kit_redis.client(url, tls=tls)
        try:
            with pytest.raises((RedisConnectionError, ssl.SSLError, OSError)):
                await r.ping()
                pytest.fail(f"{case}: Valkey answered")
        finally:
            await r.aclose()
