"""``python -m alongside.kit.probe``, the image's HEALTHCHECK and the exec
probes, against real service and console processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from alongside.kit.testing.certs import Authority
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import ValkeyServer, free_port
from alongside.kit.testing.wait import eventually


def probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alongside.kit.probe", *args], capture_output=True, text=True, timeout=30, env=env
    )


@pytest.fixture
def matcher(nats_url: str, own_valkey: ValkeyServer, namespace: str) -> Iterator[Child]:
    child = Child(
        "alongside.matcher",
        {"NATS_URL": nats_url, "REDIS_URL": own_valkey.url, "NAMESPACE": namespace, "HEALTH_INTERVAL_SECONDS": "0.1"},
    )
    yield child
    child.close()


async def test_serving_service_passes_and_not_serving_fails(matcher: Child, own_valkey: ValkeyServer) -> None:
    target = f"127.0.0.1:{matcher.port}"

    async def serving() -> bool:
        return probe(target).returncode == 0

    await eventually(serving, timeout=20, interval=0.2, what="probe passes")
    own_valkey.stop()

    async def failing() -> bool:
        return probe(target).returncode == 1

    await eventually(failing, timeout=20, interval=0.2, what="probe fails while Valkey is down")
    result = probe(target)
    assert "NOT_SERVING" in result.stderr
    # Liveness is the process's, not its dependencies': no restart for a broker outage.
    assert probe(target, "--service", "alongside.liveness").returncode == 0
    own_valkey.start()
    await eventually(serving, timeout=20, interval=0.2, what="probe passes again")


async def test_without_addr_it_probes_listen_addr_on_loopback(matcher: Child) -> None:
    # The image's HEALTHCHECK: the service listens on 0.0.0.0:<port>; the probe asks 127.0.0.1.
    env = {"LISTEN_ADDR": f"0.0.0.0:{matcher.port}", "PATH": "/usr/bin:/bin"}

    async def serving() -> bool:
        return probe(env=env).returncode == 0

    await eventually(serving, timeout=20, interval=0.2, what="probe of LISTEN_ADDR passes")


def test_nobody_listening_fails_naming_the_target() -> None:
    port = free_port()
    result = probe(f"127.0.0.1:{port}", "--timeout", "0.5")
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is unreachable" in result.stderr


def test_no_addr_and_no_setting_is_a_usage_error() -> None:
    result = probe(env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "LISTEN_ADDR" in result.stderr


def test_mtls_service_needs_the_probe_to_present_a_certificate(
    nats_url: str, redis_url: str, namespace: str, tmp_path: Path
) -> None:
    ca = Authority()
    ca_file = ca.write(tmp_path)
    server_cert, server_key = ca.issue("matcher").write(tmp_path, "server")
    client_cert, client_key = ca.issue("probe").write(tmp_path, "client")
    env = {
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "NAMESPACE": namespace,
        "TLS_CERT_FILE": str(server_cert),
        "TLS_KEY_FILE": str(server_key),
        "TLS_CLIENT_CA_FILE": str(ca_file),
    }
    child = Child("alongside.matcher", env)
    try:
        target = f"127.0.0.1:{child.port}"
        assert probe(target, "--timeout", "1").returncode == 1  # plaintext is refused in the handshake
        tls = ("--tls-ca", str(ca_file), "--tls-cert", str(client_cert), "--tls-key", str(client_key))
        assert probe(target, *tls, "--server-name", "localhost").returncode == 0, probe(target, *tls).stderr
    finally:
        child.close()


def test_console_is_probed_over_http() -> None:
    port = free_port()
    env = {"CONSOLE_ADDR": f"127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "alongside.console"], env={**_base_env(), **env})
    try:
        own_env = {**_base_env(), "CONSOLE_ADDR": f"0.0.0.0:{port}"}
        for _ in range(300):
            if probe(env=own_env).returncode == 0:
                break
            assert proc.poll() is None, "the console exited"
        else:
            pytest.fail("the console's probe never passed")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert probe(f"http://127.0.0.1:{port}/sign-in", "--timeout", "0.5").returncode == 1


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
