"""``alongside console`` hands the console the services' addresses the CLI uses,
and the development secret only when asked for development sign-in."""

from __future__ import annotations

import pytest

from alongside.cli import console
from alongside.cli.config import Config
from alongside.cli.errors import CliError
from alongside.cli.state import Session


def session_with(addresses: dict[str, str]) -> Session:
    env = {f"ALONGSIDE_{k.upper()}": v for k, v in addresses.items()}
    config = Config.from_env(env=env, timeout_s=5, json=False)
    return Session(config, None, None)  # type: ignore[arg-type]


def test_the_console_gets_the_clis_service_addresses_unless_set() -> None:
    current = session_with({"matcher": "10.0.0.1:1", "scheduler": "10.0.0.2:2", "notifier": "10.0.0.3:3"})
    env = console.env_for(current, "127.0.0.1:9000", False, {"NOTIFIER_ADDR": "127.0.0.1:7"})
    found = (env["MATCHER_ADDR"], env["SCHEDULER_ADDR"], env["NOTIFIER_ADDR"])
    assert found == ("10.0.0.1:1", "10.0.0.2:2", "127.0.0.1:7")
    assert env["CONSOLE_ADDR"] == "127.0.0.1:9000" and "DEV_SIGN_IN" not in env


def test_dev_sign_in_takes_the_development_secret_or_says_what_to_do(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no var/dev-auth-secret here
    current = session_with({})
    with pytest.raises(CliError, match="make run"):
        console.env_for(current, "127.0.0.1:0", True, {})
    env = console.env_for(current, "127.0.0.1:0", True, {"AUTH_HS256_SECRET": "x" * 40})
    assert env["DEV_SIGN_IN"] == "true" and env["AUTH_HS256_SECRET"] == "x" * 40
