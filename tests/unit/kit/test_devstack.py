"""`make run`'s choices, without starting it: ports it cannot have are
announced (issue 18, defect 1), a configured server nobody answers is named
within seconds (defect 12)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alongside.kit import devstack
from alongside.kit.testing.servers import free_port


@pytest.fixture
def held() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_a_free_preferred_port_is_taken_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert devstack.choose_port({}, "MATCHER_PORT", port, "matcher gRPC") == port
    assert capsys.readouterr().err == ""


def test_a_taken_preferred_port_moves_loudly(held: int, capsys: pytest.CaptureFixture[str]) -> None:
    port = devstack.choose_port({}, "MATCHER_PORT", held, "matcher gRPC")
    assert port != held
    err = capsys.readouterr().err
    assert err.startswith("WARNING: ")
    assert f"port {held} (matcher gRPC) is taken" in err and f"using {port} instead" in err
    assert "endpoints.json" in err and "MATCHER_PORT" in err


def test_a_taken_explicit_port_stops_the_start(held: int) -> None:
    with pytest.raises(devstack.StartError, match=f"MATCHER_PORT={held}: port {held} .* is taken"):
        devstack.choose_port({"MATCHER_PORT": str(held)}, "MATCHER_PORT", 50051, "matcher gRPC")


def test_endpoints_are_removed_only_by_their_stack(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.json"
    devstack.write_endpoints(path, {"stack_id": "one", "matcher": "127.0.0.1:1", "console": None})
    assert path.stat().st_mode & 0o077 == 0
    devstack.remove_endpoints(path, "two")
    assert json.loads(path.read_text())["stack_id"] == "one"
    devstack.remove_endpoints(path, "one")
    assert not path.exists()


@pytest.mark.serial  # named within 5 s
@pytest.mark.parametrize(("variable", "scheme", "default"), [("NATS_URL", "nats", 4222), ("REDIS_URL", "redis", 6379)])
def test_a_configured_server_nobody_answers_is_named_at_once(variable: str, scheme: str, default: int) -> None:
    dead = free_port()
    started = time.monotonic()
    with pytest.raises(devstack.StartError) as info:
        devstack.check_dependency(variable, f"{scheme}://127.0.0.1:{dead}", default)
    assert time.monotonic() - started < 5
    assert str(info.value).startswith(f"{variable} is set, but nobody answers at 127.0.0.1:{dead}")
    assert f"unset {variable}" in str(info.value)


def test_one_live_server_of_several_is_enough(held: int) -> None:
    devstack.check_dependency("NATS_URL", f"nats://127.0.0.1:{free_port()},nats://127.0.0.1:{held}", 4222)


def test_a_port_without_a_variable_also_moves_loudly(held: int, capsys: pytest.CaptureFixture[str]) -> None:
    port = devstack._port(held, "web console")
    assert port != held
    err = capsys.readouterr().err
    assert f"port {held} (web console) is taken" in err and "set  to" not in err


@pytest.mark.serial  # stops within 2 s
def test_ctrl_c_while_a_service_starts_stops_the_wait_at_once() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = time.monotonic()
        with pytest.raises(devstack.StartError, match="stopped while matcher was starting"):
            devstack._wait_listening(sleeper, free_port(), "matcher", timeout=30, stopping=lambda: True)
        assert time.monotonic() - started < 2
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({}, "off"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "spans printed to each service's log"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, "OTLP/gRPC to http://127.0.0.1:4317"),
    ],
)
def test_make_run_says_where_the_spans_go(env: dict[str, str], said: str) -> None:
    assert said in devstack.tracing_line(env)


def test_a_tracing_exporter_we_do_not_ship_stops_the_start() -> None:
    with pytest.raises(devstack.StartError, match="OTEL_TRACES_EXPORTER"):
        devstack.tracing_line({"OTEL_TRACES_EXPORTER": "jaeger"})
