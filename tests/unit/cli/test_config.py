"""Where the CLI finds the services."""

from __future__ import annotations

import pytest

from alongside.cli.config import Config
from alongside.cli.errors import CliError, ExitCode


def test_defaults_are_the_ports_make_run_uses() -> None:
    config = Config.from_env({}, timeout_s=10, json=False)
    assert dict(config.addresses) == {
        "matcher": "127.0.0.1:50051",
        "scheduler": "127.0.0.1:50052",
        "notifier": "127.0.0.1:50053",
    }
    assert config.nats_url == "nats://127.0.0.1:14222" and config.redis_url.startswith("redis://127.0.0.1:16379")


def test_environment_overrides() -> None:
    env = {"ALONGSIDE_SCHEDULER": "sched.internal:7000", "NATS_URL": "nats://n:4222"}
    config = Config.from_env(env, timeout_s=3, json=True)
    assert config.addresses["scheduler"] == "sched.internal:7000" and config.nats_url == "nats://n:4222"
    assert config.json and config.timeout_s == 3


@pytest.mark.parametrize("bad", ["localhost", "host:port", "host:70000", ":50051"])
def test_a_bad_address_names_the_variable(bad: str) -> None:
    with pytest.raises(CliError) as info:
        Config.from_env({"ALONGSIDE_NOTIFIER": bad}, timeout_s=10, json=False)
    assert info.value.message.startswith("ALONGSIDE_NOTIFIER must look like host:port")
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_the_timeout_must_be_sensible() -> None:
    with pytest.raises(CliError, match="--timeout"):
        Config.from_env({}, timeout_s=0, json=False)
