"""The compose file's three NATS servers, started as it starts them (its
command lines, deploy/nats/nats-server.conf with the accounts.conf it
includes), on free local ports: they form one JetStream cluster, the admin
provisions R3 streams with `alongside streams provision --replicas 3`, and a
service user may check them but not create one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.js.errors import APIError

from alongside.kit.testing.servers import free_port, nats_binary
from alongside.kit.testing.wait import eventually
from tests.unit.deploy.manifests import DEPLOY, compose

USERS = ("matcher", "scheduler", "notifier", "admin")


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.passwords = {user: uuid.uuid4().hex for user in USERS}
        self.ports = {f"nats-{i}": free_port() for i in (1, 2, 3)}
        routes = {f"nats-{i}": free_port() for i in (1, 2, 3)}
        env = {**os.environ, **{f"{u.upper()}_NATS_PASSWORD": pw for u, pw in self.passwords.items()}}
        self.procs = []
        # The shipped files, linked (not copied) beside a file that moves only the store to a temporary folder.
        conf = tmp / "conf"
        conf.mkdir()
        for shipped in ("nats-server.conf", "accounts.conf"):
            (conf / shipped).symlink_to(DEPLOY / "nats" / shipped)
        for name, port in self.ports.items():
            node = conf / f"{name}.conf"
            store = tmp / name
            node.write_text(f'include ./nats-server.conf\njetstream {{ store_dir: "{store}", sync_interval: always }}')
            command = [_local(arg, name, routes) for arg in compose()["services"][name]["command"]]
            own = ["-a", "127.0.0.1", "-p", str(port), "-m", "0"]
            log = (tmp / f"{name}.log").open("wb")
            args = [nats_binary(), "-c", str(node), *command, *own]
            self.procs.append(subprocess.Popen(args, env=env, stdout=log, stderr=log, start_new_session=True))
        self.tmp = tmp

    def url(self, user: str) -> str:
        return ",".join(f"nats://{user}:{self.passwords[user]}@127.0.0.1:{port}" for port in self.ports.values())

    def close(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _local(arg: str, node: str, routes: dict[str, int]) -> str:
    """The compose argument on this machine: each node's route port on loopback."""
    if arg == "nats://0.0.0.0:6222":
        return f"nats://127.0.0.1:{routes[node]}"
    for name, port in routes.items():
        arg = arg.replace(f"nats://{name}:6222", f"nats://127.0.0.1:{port}")
    return arg


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    yield c
    c.close()


async def test_compose_nats_nodes_form_a_cluster_with_the_shipped_accounts(cluster: Cluster) -> None:
    async def provisioned() -> bool:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "alongside.cli", "streams", "provision", "--replicas", "3",
            env={**os.environ, "NATS_URL": cluster.url("admin")},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await proc.wait() == 0

    await eventually(provisioned, timeout=60, interval=1.0, what="R3 streams provisioned by the admin")
    # A service user subscribes only to its own inboxes (accounts.conf), as alongside.kit.nats connects.
    nc = await nats.connect(servers=cluster.url("matcher").split(","), inbox_prefix="_INBOX_matcher")
    try:
        info = await nc.jetstream(timeout=10).stream_info("ALONGSIDE_AUDIT")
        assert info.config.num_replicas == 3
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        with pytest.raises((APIError, nats.errors.Error)):
            await nc.jetstream(timeout=2).add_stream(name=f"ROGUE_{uuid.uuid4().hex[:6]}", subjects=["rogue.>"])
    finally:
        await nc.close()
