"""``make run-cluster``: the production topology on one machine.

Three nats-servers as one JetStream cluster (R3 streams, ``sync_interval:
always``), Valkey as a primary, a replica and three Sentinels (AOF
``always``), then two replicas of each service: they reach NATS by its seed
list and Valkey through the Sentinels, and answer a write only once the
replica has it (``REDIS_MIN_REPLICAS=1``). Every process has its own port
and its own folder under ``var/cluster`` (started afresh each time). The
first replica of each service takes the ports ``make run`` uses, so the CLI
finds it. Ctrl-C stops the services (draining), then the servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nats

from alongside.kit.devstack import SERVICES, _dev_auth, _mail_sink
from alongside.kit.events.streams import provision
from alongside.kit.libraries import catalogue
from alongside.kit.testing.cluster import NatsCluster, ValkeyHA
from alongside.kit.testing.servers import free_port, provision_functions
from alongside.kit.testing.smtp import SmtpSink

DATA = Path(os.environ.get("ALONGSIDE_DATA_DIR", "var")) / "cluster"
REPLICAS = 2


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


async def _provision_streams(url: str) -> None:
    nc = await nats.connect(servers=url.split(","))
    try:
        await provision(nc.jetstream(timeout=30), os.environ.get("NAMESPACE", "alongside"), replicas=3)
    finally:
        await nc.close()


def _servers(env: dict[str, str]) -> tuple[NatsCluster, ValkeyHA]:
    nats = NatsCluster(root=DATA / "nats")
    nats.start()
    for node in nats.nodes:
        print(f"NATS {node.node_name} (JetStream)   {node.url}   routes on {node.cluster_port}   data in {node.root}")
    valkey = ValkeyHA(root=DATA / "valkey")
    valkey.start()
    for server in valkey.servers:
        print(f"Valkey {valkey.role(server):<7} (AOF always) redis://127.0.0.1:{server.port}   data in {server.root}")
    for sentinel in valkey.sentinels:
        print(f"Valkey Sentinel             127.0.0.1:{sentinel.port}   data in {sentinel.root}")
    asyncio.run(_provision_streams(nats.url))
    print("JetStream streams          R3, provisioned as an operator (alongside streams provision --replicas 3)")
    provision_functions(valkey.admin_url)
    print(f"Valkey functions            {', '.join(lib.name for lib in catalogue())}   (loaded as an operator)")
    (DATA / "admin-redis-url").write_text(valkey.admin_url)
    env.update(
        NATS_URL=nats.url,
        REDIS_URL=valkey.url,
        REDIS_MIN_REPLICAS="1",
        STREAM_REPLICAS="3",
        PROVISION_STREAMS="false",  # six processes creating R3 streams at once time out on a busy machine
        PROVISION_FUNCTIONS="false",
    )
    print(f"NATS_URL={nats.url}")
    print(f"REDIS_URL={valkey.url}   (admin login in {DATA / 'admin-redis-url'})")
    return nats, valkey


def _start_service(env: dict[str, str], name: str, replica: int, port: int, metrics: int) -> subprocess.Popen[bytes]:
    logs = DATA / "logs"
    child_env = {
        **env,
        "LISTEN_ADDR": f"127.0.0.1:{port}",
        "METRICS_ADDR": f"127.0.0.1:{metrics}",
        "SERVICE_NAME": name,
    }
    log_path = logs / f"{name}-{replica}.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", f"alongside.{name}"], env=child_env, stdout=log, stderr=log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} replica {replica} exited with code {proc.returncode}; see {log_path}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        raise TimeoutError(f"{name} replica {replica} did not start; see {log_path}")
    print(
        f"{name + '-' + str(replica):<11} gRPC on 127.0.0.1:{port}   metrics on http://127.0.0.1:{metrics}/metrics"
        f"   (logs: {log_path})"
    )
    return proc


def main() -> int:
    env = dict(os.environ)
    for name in ("NATS_URL", "REDIS_URL"):
        env.pop(name, None)  # this topology is its own
    shutil.rmtree(DATA, ignore_errors=True)
    (DATA / "logs").mkdir(parents=True)
    stop = False

    def request_stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    procs: list[subprocess.Popen[bytes]] = []
    nats: NatsCluster | None = None
    valkey: ValkeyHA | None = None
    sink: SmtpSink | None = None
    try:
        nats, valkey = _servers(env)
        _dev_auth(env)
        sink = _mail_sink(env, {})  # the HA stack writes no endpoints file
        for name, preferred, preferred_metrics in SERVICES:
            for replica in range(1, REPLICAS + 1):
                port = _port(preferred) if replica == 1 else free_port()
                metrics_port = _port(preferred_metrics) if replica == 1 else free_port()
                procs.append(_start_service(env, name, replica, port, metrics_port))
        print("Alongside (HA topology) is up. Ctrl-C stops everything.", flush=True)
        while not stop and all(p.poll() is None for p in procs):
            time.sleep(0.2)
        if not stop:
            print("a service exited unexpectedly; stopping the rest", file=sys.stderr)
            return 1
        return 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)
            if proc.poll() is None:
                proc.kill()
        if sink is not None:
            sink.stop()
        if valkey is not None:
            valkey.close()
        if nats is not None:
            nats.close()
        print("stopped.")


if __name__ == "__main__":
    raise SystemExit(main())
