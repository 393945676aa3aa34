from pathlib import Path

import pytest

from alongside.kit.settings import ConfigError, Settings
from alongside.kit.testing.auth import AUTH_ENV


def test_reads_typed_values_from_env() -> None:
    s = Settings.from_env(
        {**AUTH_ENV, "SERVICE_NAME": "matcher", "NATS_URL": "nats://h:1", "GRACE_SECONDS": "2.5", "LOG_LEVEL": "debug"}
    )
    assert (s.service_name, s.nats_url, s.grace_seconds, s.log_level) == ("matcher", "nats://h:1", 2.5, "debug")


def test_no_token_keys_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="AUTH_PUBLIC_KEYS or AUTH_HS256_SECRET"):
        Settings.from_env({"SERVICE_NAME": "x"})
    with pytest.raises(ConfigError, match="at least 32"):
        Settings.from_env({"SERVICE_NAME": "x", "AUTH_HS256_SECRET": "short"})


def test_missing_required_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SERVICE_NAME is required"):
        Settings.from_env({**AUTH_ENV})


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("NATS_URL", "http://x", "NATS_URL must be a URL"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL must be one of"),
        ("LISTEN_ADDR", "nowhere", "LISTEN_ADDR must look like host:port"),
        ("METRICS_ADDR", "9464", "METRICS_ADDR must look like host:port"),
        ("GRACE_SECONDS", "soon", "GRACE_SECONDS must be a float"),
        ("NAMESPACE", "a.b", "NAMESPACE may hold only"),
        ("OUTBOX_RELAY", "thread", "OUTBOX_RELAY must be process or inline"),
        ("REDIS_URL", "redis+sentinel://a/alongside/0", "REDIS_URL: each Sentinel must be host:port"),
        ("REDIS_URL", "redis+sentinel://a:1,b:2", "REDIS_URL: the path must be"),
        ("REDIS_MIN_REPLICAS", "9", "REDIS_MIN_REPLICAS must be between 0 and 5"),
        ("REDIS_WAIT_TIMEOUT_MS", "0", "REDIS_WAIT_TIMEOUT_MS must be between"),
    ],
)
def test_bad_values_fail_with_a_clear_message(var: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**AUTH_ENV, "SERVICE_NAME": "x", var: value})


def test_sentinels_and_durability_are_read_from_env() -> None:
    s = Settings.from_env(
        {
            **AUTH_ENV,
            "SERVICE_NAME": "matcher",
            "REDIS_URL": "redis+sentinel://matcher:pw@s1:26379,s2:26379,s3:26379/alongside/1",
            "REDIS_MIN_REPLICAS": "1",
            "REDIS_WAIT_AOF": "true",
        }
    )
    d = s.durability()
    assert (d.min_replicas, d.timeout_ms, d.aof) == (1, 1000, True)
    assert d.command() == ("WAITAOF", 1, 1, 1000)
    assert Settings.from_env({**AUTH_ENV, "SERVICE_NAME": "x"}).durability().min_replicas == 0


def test_a_setting_may_come_from_a_file(tmp_path: Path) -> None:
    """FIELD_FILE names a file holding the value (compose and Kubernetes secrets):
    a URL with a password never has to sit in the environment or a manifest."""
    url = tmp_path / "nats-url"
    url.write_text("nats://matcher:s3cret@nats-1:4222,nats://matcher:s3cret@nats-2:4222\n")
    secret = tmp_path / "hs256"
    secret.write_text("x" * 40)
    s = Settings.from_env({"SERVICE_NAME": "m", "NATS_URL_FILE": str(url), "AUTH_HS256_SECRET_FILE": str(secret)})
    assert s.nats_url == "nats://matcher:s3cret@nats-1:4222,nats://matcher:s3cret@nats-2:4222"
    assert s.auth_hs256_secret == "x" * 40


def test_a_file_setting_is_checked_like_the_variable(tmp_path: Path) -> None:
    bad = tmp_path / "url"
    bad.write_text("http://wrong")
    with pytest.raises(ConfigError, match="NATS_URL must be a URL"):
        Settings.from_env({**AUTH_ENV, "SERVICE_NAME": "m", "NATS_URL_FILE": str(bad)})
    with pytest.raises(ConfigError, match="NATS_URL_FILE: cannot read it") as caught:
        Settings.from_env({**AUTH_ENV, "SERVICE_NAME": "m", "NATS_URL_FILE": str(tmp_path / "missing")})
    assert str(tmp_path) not in str(caught.value)
    with pytest.raises(ConfigError, match="set NATS_URL or NATS_URL_FILE, not both"):
        Settings.from_env({**AUTH_ENV, "SERVICE_NAME": "m", "NATS_URL": "nats://h:1", "NATS_URL_FILE": str(bad)})
