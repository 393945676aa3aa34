"""Development sign-in cannot be switched on outside development."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from alongside.console.settings import ConsoleSettings
from alongside.kit.settings import ConfigError

SECRET = "s" * 40


def test_dev_sign_in_needs_the_flag_the_secret_and_loopback() -> None:
    ok = ConsoleSettings.from_env({"DEV_SIGN_IN": "true", "AUTH_HS256_SECRET": SECRET, "CONSOLE_ADDR": "127.0.0.1:0"})
    assert ok.dev_sign_in and ok.on_loopback and not ok.secure_cookies
    with pytest.raises(ConfigError, match="AUTH_HS256_SECRET"):
        ConsoleSettings.from_env({"DEV_SIGN_IN": "true", "CONSOLE_ADDR": "127.0.0.1:0"})
    for addr in ("0.0.0.0:8080", "10.0.0.5:8080", "console.example.org:443", "[::]:8080"):
        with pytest.raises(ConfigError, match="loopback"):
            ConsoleSettings.from_env({"DEV_SIGN_IN": "true", "AUTH_HS256_SECRET": SECRET, "CONSOLE_ADDR": addr})
    for addr in ("localhost:8080", "[::1]:8080", "127.0.0.2:8080"):
        ConsoleSettings.from_env({"DEV_SIGN_IN": "true", "AUTH_HS256_SECRET": SECRET, "CONSOLE_ADDR": addr})


def test_cookies_are_secure_unless_developing_on_loopback() -> None:
    assert ConsoleSettings.from_env({"CONSOLE_ADDR": "127.0.0.1:8080"}).secure_cookies
    assert ConsoleSettings.from_env({"CONSOLE_ADDR": "0.0.0.0:8080"}).secure_cookies


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="IDLE_TIMEOUT_SECONDS"):
        ConsoleSettings.from_env({"IDLE_TIMEOUT_SECONDS": "0"})
    with pytest.raises(ConfigError, match="MATCHER_ADDR"):
        ConsoleSettings.from_env({"MATCHER_ADDR": "nowhere"})


def test_the_console_refuses_to_start_with_dev_sign_in_on_a_public_address() -> None:
    env = {**os.environ, "DEV_SIGN_IN": "true", "AUTH_HS256_SECRET": SECRET, "CONSOLE_ADDR": "0.0.0.0:0"}
    done = subprocess.run([sys.executable, "-m", "alongside.console"], env=env, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert b"DEV_SIGN_IN is for development only" in done.stderr
    assert b"listening on" not in done.stdout
