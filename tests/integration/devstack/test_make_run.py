"""``make run`` itself (kit/alongside/kit/devstack.py) as a user runs it, in
a data folder of its own on free ports (issue 18, defects 1, 5 and 12).

Ctrl-C at a terminal sends SIGINT to the whole foreground process group;
the test does the same (``killpg``), then checks the stop order in the logs:
every service drained and stopped before Valkey and NATS went away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alongside.kit.testing.servers import free_port

# Ctrl-C to a process group and stops timed in seconds: make test runs these alone (serial).
pytestmark = pytest.mark.serial

SERVICES = ("matcher", "scheduler", "notifier")


def devstack_env(var: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "REDIS_URL", "SMTP_HOST", "AUTH_HS256_SECRET")}
    env.update(ALONGSIDE_DATA_DIR=str(var), NATS_PORT=str(free_port()), VALKEY_PORT=str(free_port()))
    env.update(SMTP_SINK_PORT=str(free_port()), GRACE_SECONDS="1", OUTBOX_RELAY="inline", LOG_LEVEL="info")
    env.update(CONSOLE_PORT=str(free_port()))
    for name in SERVICES:
        env[f"{name.upper()}_PORT"] = str(free_port())
        env[f"{name.upper()}_METRICS_PORT"] = str(free_port())
    env.update(extra)
    return env


def wait_for_line(out: Path, text: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in out.read_text():
            return
        assert proc.poll() is None, out.read_text()
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} within {timeout_s}s:\n{out.read_text()}")


def events(log: Path) -> list[str]:
    found = []
    for line in log.read_text().splitlines():
        try:
            found.append(str(json.loads(line).get("event", "")))
        except ValueError:
            found.append(line)
    return found


@pytest.mark.slow
def test_ctrl_c_stops_the_services_before_the_servers(tmp_path: Path) -> None:
    var = tmp_path / "var"
    out = tmp_path / "out.txt"
    env = devstack_env(var)
    with out.open("wb") as sink:
        # Its own process group, like a shell's foreground job: killpg below is a Ctrl-C.
        proc = subprocess.Popen(
            [sys.executable, "-m", "alongside.kit.devstack"], env=env, stdout=sink, stderr=subprocess.STDOUT,
            process_group=0,
        )  # fmt: skip
    try:
        wait_for_line(out, "Alongside is up", proc, 120)
        endpoints = json.loads((var / "endpoints.json").read_text())
        assert endpoints["data_dir"] == str(var.resolve())
        assert endpoints["console"] == f"http://127.0.0.1:{env['CONSOLE_PORT']}/"
        assert endpoints["matcher"] == f"127.0.0.1:{env['MATCHER_PORT']}"
        assert endpoints["nats_url"] == f"nats://127.0.0.1:{env['NATS_PORT']}"
        # The CLI, from another folder, through the data folder: this stack, all up.
        cli = subprocess.run(
            [sys.executable, "-m", "alongside.cli", "--json", "--config", str(var), "status"],
            env={
                **{k: v for k, v in env.items() if not k.startswith("ALONGSIDE_")},
                "HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path / ".config"),
            },
            cwd=tmp_path, capture_output=True, timeout=60,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert json.loads(cli.stdout)["stack"]["stack_id"] == endpoints["stack_id"]
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = out.read_text().splitlines()
    stopped = [line for line in lines if line.startswith("stopped")]
    assert stopped[-3:] == ["stopped embedded Valkey", "stopped embedded NATS", "stopped."], lines
    everything = sorted((*SERVICES, "console"))
    assert sorted(stopped[:4]) == [f"stopped {name} (exit code 0)" for name in everything], lines
    assert stopped.index("stopped the local SMTP sink") == 4, lines
    for name in SERVICES:
        seen = events(var / "logs" / f"{name}.log")
        assert "service.stopping" in seen and seen[-1] == "service.stopped", (name, seen[-10:])
        after = seen[seen.index("service.stopping") :]
        # A drain ends in one clean disconnect; a server gone first shows as errors and reconnects.
        troubles = [e for e in after if e in ("nats.error", "nats.reconnected") or "EOF" in e or "refused" in e]
        assert not troubles and after.count("nats.disconnected") <= 1, (name, after)
    assert not (var / "endpoints.json").exists()


def test_a_configured_nats_nobody_answers_is_named_within_seconds(tmp_path: Path) -> None:
    dead = free_port()
    env = devstack_env(tmp_path / "var", NATS_URL=f"nats://127.0.0.1:{dead}")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "alongside.kit.devstack"], env=env, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 15  # interpreter start included; the check itself takes < 3 s
    assert done.returncode == 1
    assert f"error: NATS_URL is set, but nobody answers at 127.0.0.1:{dead}" in done.stderr
    assert not (tmp_path / "var" / "endpoints.json").exists()


@pytest.mark.slow
def test_a_closed_terminal_stops_everything_too(tmp_path: Path) -> None:
    """SIGHUP reaches only make run (its children have groups of their own): it must stop them, not orphan them."""
    var = tmp_path / "var"
    out = tmp_path / "out.txt"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alongside.kit.devstack"], env=devstack_env(var), stdout=sink,
            stderr=subprocess.STDOUT, process_group=0,
        )  # fmt: skip
    try:
        wait_for_line(out, "Alongside is up", proc, 120)
        os.killpg(proc.pid, signal.SIGHUP)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = out.read_text().splitlines()
    assert lines[-1] == "stopped." and "stopped embedded NATS" in lines, lines
