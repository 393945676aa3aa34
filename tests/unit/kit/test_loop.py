"""The event loop a service runs on, and its setting."""

from __future__ import annotations

import asyncio

import pytest

from alongside.kit import loop
from alongside.kit.settings import ConfigError, Settings
from alongside.kit.testing.auth import TEST_AUTH


def loop_module(event_loop: str) -> str:
    seen: list[str] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__)

    loop.run(main(), event_loop)
    return seen[0]


def test_services_run_on_uvloop_unless_told_otherwise() -> None:
    pytest.importorskip("uvloop")
    assert loop_module("uvloop").startswith("uvloop")
    assert loop_module("asyncio").startswith("asyncio")
    assert Settings.from_env({}, service_name="x", **TEST_AUTH).event_loop == "uvloop"


def test_an_unknown_event_loop_is_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="EVENT_LOOP"):
        Settings.from_env({"EVENT_LOOP": "trio"}, service_name="x", **TEST_AUTH)
