"""The brokers' TLS settings (alongside.kit.broker_tls): what they accept, and
the TLS options they give nats-py and redis-py, Sentinels included (the
pip-installed valkey-server has no TLS, so Sentinel over TLS is checked here,
on the clients' configuration; tests/integration/security/test_broker_tls.py
runs the rest against real servers)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from redis.asyncio.connection import SSLConnection
from redis.asyncio.sentinel import SentinelManagedConnection, SentinelManagedSSLConnection

from alongside.cli.config import Config
from alongside.kit.broker_tls import NATS_PREFIX, REDIS_PREFIX, BrokerTls, TlsConfigError, nats_options
from alongside.kit.durable import connect, connect_blocking, parse_sentinel_url
from alongside.kit.settings import ConfigError, Settings
from alongside.kit.testing.auth import AUTH_ENV
from alongside.kit.testing.certs import Authority

SENTINELS = "127.0.0.1:26379,127.0.0.1:26380/alongside/1"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("broker-pki")
    ca = Authority("Programme CA")
    cert, key = ca.issue("matcher", server=False).write(folder, "client")
    return {"ca": str(ca.write(folder)), "cert": str(cert), "key": str(key)}


def settings(**env: str) -> Settings:
    return Settings.from_env({**AUTH_ENV, "SERVICE_NAME": "matcher", **env})


def test_tls_urls_with_the_private_ca_and_a_client_certificate(files: dict[str, str]) -> None:
    s = settings(
        NATS_URL="tls://nats-0:4222,tls://nats-1:4222",
        NATS_TLS_CA_FILE=files["ca"],
        NATS_TLS_CERT_FILE=files["cert"],
        NATS_TLS_KEY_FILE=files["key"],
        REDIS_URL=f"rediss+sentinel://{SENTINELS}",
        REDIS_TLS_CA_FILE=files["ca"],
    )
    assert s.nats_tls() == BrokerTls(NATS_PREFIX, files["ca"], files["cert"], files["key"])
    assert s.redis_tls() == BrokerTls(REDIS_PREFIX, files["ca"])


def test_tls_urls_without_files_use_the_system_cas() -> None:
    s = settings(NATS_URL="tls://nats:4222", REDIS_URL="rediss://valkey:6379/0")
    context = nats_options(s.nats_url, s.nats_tls())["tls"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0 or ssl.get_default_verify_paths().cafile is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NATS_TLS_CA_FILE": "{ca}"}, "NATS_TLS_\\* files are set but NATS_URL is not tls://"),
        ({"REDIS_TLS_CA_FILE": "{ca}"}, "REDIS_TLS_\\* files are set but REDIS_URL is not rediss://"),
        (
            {"REDIS_URL": f"redis+sentinel://{SENTINELS}", "REDIS_TLS_CA_FILE": "{ca}"},
            "REDIS_URL is not rediss:// or rediss\\+sentinel://",
        ),
        (
            {"NATS_URL": "tls://a:1", "NATS_TLS_CERT_FILE": "{cert}"},
            "NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE together",
        ),
        ({"REDIS_URL": "rediss://a:1/0", "REDIS_TLS_KEY_FILE": "{key}"}, "REDIS_TLS_CERT_FILE and REDIS_TLS_KEY"),
        ({"NATS_URL": "tls://a:1,nats://b:2"}, "use tls:// for every server or for none"),
    ],
)
def test_incomplete_or_unused_tls_files_fail_at_start(files: dict[str, str], env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(**{k: v.format(**files) for k, v in env.items()})


def test_nats_goes_tls_first_with_a_verifying_context(files: dict[str, str]) -> None:
    options = nats_options("tls://nats:4222", BrokerTls(NATS_PREFIX, files["ca"], files["cert"], files["key"]))
    assert options["tls_handshake_first"] is True
    context = options["tls"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert nats_options("nats://nats:4222", BrokerTls(NATS_PREFIX)) == {}


def test_a_missing_file_is_named_as_the_client_is_made(files: dict[str, str]) -> None:
    s = settings(NATS_URL="tls://a:1", NATS_TLS_CA_FILE="/nowhere/ca.pem", REDIS_URL="rediss://a:1/0")
    with pytest.raises(TlsConfigError, match="NATS_TLS_CA_FILE: no such file"):
        nats_options(s.nats_url, s.nats_tls())
    with pytest.raises(TlsConfigError, match="REDIS_TLS_KEY_FILE: no such file"):
        connect("rediss://a:1/0", tls=BrokerTls(REDIS_PREFIX, files["ca"], files["cert"], "/nowhere/key.pem"))


def test_an_unloadable_key_is_named(tmp_path: Path, files: dict[str, str]) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    with pytest.raises(TlsConfigError, match="NATS_TLS_\\* files: cannot load them"):
        BrokerTls(NATS_PREFIX, files["ca"], files["cert"], str(bad)).context()


async def test_rediss_verifies_against_the_ca_with_the_client_certificate(files: dict[str, str]) -> None:
    r = connect("rediss://valkey:6379/1", tls=BrokerTls(REDIS_PREFIX, files["ca"], files["cert"], files["key"]))
    pool = r.connection_pool
    assert pool.connection_class is SSLConnection
    kwargs = pool.connection_kwargs
    assert (kwargs["ssl_ca_certs"], kwargs["ssl_certfile"], kwargs["ssl_keyfile"]) == (
        files["ca"],
        files["cert"],
        files["key"],
    )
    assert kwargs["ssl_cert_reqs"] == "required" and kwargs["ssl_check_hostname"] is True
    await r.aclose()


async def test_rediss_sentinel_uses_tls_to_the_sentinels_and_to_the_primary(files: dict[str, str]) -> None:
    assert parse_sentinel_url(f"rediss+sentinel://{SENTINELS}").tls
    tls = BrokerTls(REDIS_PREFIX, files["ca"], files["cert"], files["key"])
    for r in (
        connect(f"rediss+sentinel://{SENTINELS}", tls=tls),
        connect_blocking(f"rediss+sentinel://{SENTINELS}", 4, tls),
    ):
        primary = r.connection_pool
        assert primary.connection_class is SentinelManagedSSLConnection
        assert primary.connection_kwargs["ssl_ca_certs"] == files["ca"]
        assert primary.connection_kwargs["ssl_certfile"] == files["cert"]
        for sentinel in primary.sentinel_manager.sentinels:  # type: ignore[attr-defined]
            assert sentinel.connection_pool.connection_class is SSLConnection
            assert sentinel.connection_pool.connection_kwargs["ssl_ca_certs"] == files["ca"]
        await r.aclose()


async def test_redis_sentinel_stays_plain_text() -> None:
    r = connect(f"redis+sentinel://{SENTINELS}")
    assert r.connection_pool.connection_class is SentinelManagedConnection
    for sentinel in r.connection_pool.sentinel_manager.sentinels:  # type: ignore[attr-defined]
        assert sentinel.connection_pool.connection_class is not SSLConnection
    await r.aclose()


def test_the_cli_reads_the_same_variables(files: dict[str, str]) -> None:
    env = {"NATS_TLS_CA_FILE": files["ca"], "REDIS_TLS_CERT_FILE": files["cert"], "REDIS_TLS_KEY_FILE": files["key"]}
    config = Config.from_env(env, timeout_s=5, json=False)
    assert config.nats_tls == BrokerTls(NATS_PREFIX, files["ca"])
    assert config.redis_tls == BrokerTls(REDIS_PREFIX, "", files["cert"], files["key"])
