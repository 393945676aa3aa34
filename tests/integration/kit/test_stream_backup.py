"""`alongside streams backup` and `restore`: the JetStream snapshot API, driven
from the CLI, copies streams (messages and durables) to a folder and back
onto another server; what it cannot do is refused with a message."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from typer.testing import CliRunner

from alongside.cli.app import app
from alongside.kit.events.snapshots import DATA_FILE, META_FILE
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.testing.cluster import NatsCluster
from alongside.kit.testing.secure_servers import SecureNatsServer
from alongside.kit.testing.servers import NatsServer

AUDIT = next(s for s in CATALOGUE if s.name == "AUDIT")
DEPLOY_NATS = Path(__file__).resolve().parents[3] / "deploy" / "nats" / "nats-server.conf"


def cli(nats_url: str, *args: str, timeout_s: float = 10) -> tuple[int, str]:
    env = {"NATS_URL": nats_url, "NAMESPACE": None, "ALONGSIDE_TIMEOUT": str(timeout_s)}
    result = CliRunner().invoke(app, ["--json", "streams", *args], env=env)
    return result.exit_code, result.output


@pytest.fixture
async def nc(own_nats: NatsServer) -> AsyncIterator[Client]:
    client = await nats.connect(own_nats.url)
    yield client
    await client.close()


async def test_backup_then_restore_on_another_server_keeps_messages_and_durables(
    own_nats: NatsServer, nc: Client, namespace: str, tmp_path: Path
) -> None:
    js = nc.jetstream()
    await provision(js, namespace)
    audit = stream_name(namespace, AUDIT)
    for i in range(300):
        await js.publish(f"{namespace}.audit.matcher", f"record {i}".encode() * 50)
    await js.add_consumer(audit, durable_name="reader")
    folder = tmp_path / "backup"

    code, output = await asyncio.to_thread(cli, own_nats.url, "backup", "--to", str(folder), "--namespace", namespace)
    assert code == 0, output
    copied = {s["stream"]: s for s in json.loads(output)["streams"]}
    assert set(copied) == {stream_name(namespace, spec) for spec in CATALOGUE}
    assert (copied[audit]["messages"], copied[audit]["first_seq"], copied[audit]["last_seq"]) == (300, 1, 300)
    assert (folder / audit / META_FILE).is_file() and (folder / audit / DATA_FILE).stat().st_size > 0

    fresh = NatsServer()
    fresh.start()
    try:
        code, output = await asyncio.to_thread(cli, fresh.url, "restore", "--from", str(folder), "--stream", audit)
        assert code == 0, output
        assert json.loads(output)["streams"][0]["messages"] == 300
        other = await nats.connect(fresh.url)
        try:
            js2 = other.jetstream()
            info = await js2.stream_info(audit)
            assert info.state.messages == 300 and info.config.deny_delete and info.config.deny_purge
            assert (await js2.get_msg(audit, 300)).data == b"record 299" * 50
            assert (await js2.consumer_info(audit, "reader")).num_pending == 300
            # Only the one asked for.
            assert [s.config.name for s in await js2.streams_info()] == [audit]
        finally:
            await other.close()

        # Restore never merges into a stream that exists.
        code, output = await asyncio.to_thread(cli, fresh.url, "restore", "--from", str(folder), "--stream", audit)
        assert code == 1 and audit in output and "already in use" in output
    finally:
        fresh.close()


def test_a_backup_never_overwrites_another(own_nats: NatsServer, namespace: str, tmp_path: Path) -> None:
    (tmp_path / f"{namespace.upper()}_AUDIT").mkdir()
    (tmp_path / f"{namespace.upper()}_AUDIT" / META_FILE).write_text("{}")
    code, output = cli(own_nats.url, "backup", "--to", str(tmp_path), "--namespace", namespace)
    assert code == 2 and "already holds a backup" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["restore", "--from", "{empty}"], "holds no stream backup"),
        (["restore", "--from", "{empty}", "--replicas", "7"], "--replicas must be between 1 and 5"),
        (["backup", "--to", "{empty}", "--namespace", "a b"], "--namespace may hold only"),
    ],
)
def test_bad_input_is_refused(own_nats: NatsServer, tmp_path: Path, args: list[str], message: str) -> None:
    code, output = cli(own_nats.url, *(a.format(empty=tmp_path) for a in args))
    assert code == 2 and message in output


def test_a_missing_stream_is_named(own_nats: NatsServer, tmp_path: Path) -> None:
    code, output = cli(own_nats.url, "backup", "--to", str(tmp_path / "b"), "--stream", "NOPE_AUDIT")
    assert code == 1 and "NOPE_AUDIT" in output and "not found" in output


def test_an_unreachable_nats_is_reported(unused_tcp_port: int, tmp_path: Path) -> None:
    code, output = cli(f"nats://127.0.0.1:{unused_tcp_port}", "backup", "--to", str(tmp_path / "b"), timeout_s=2)
    assert code == 3 and "cannot reach NATS" in output


async def test_a_single_server_backup_restores_onto_a_three_node_cluster_as_r3(
    own_nats: NatsServer, nc: Client, nats_cluster: NatsCluster, namespace: str, tmp_path: Path
) -> None:
    js = nc.jetstream()
    await provision(js, namespace)
    audit = stream_name(namespace, AUDIT)
    for i in range(50):
        await js.publish(f"{namespace}.audit.matcher", f"record {i}".encode())
    code, output = await asyncio.to_thread(cli, own_nats.url, "backup", "--to", str(tmp_path), "--stream", audit)
    assert code == 0, output

    code, output = await asyncio.to_thread(cli, nats_cluster.url, "restore", "--from", str(tmp_path), "--replicas", "3")
    assert code == 0, output
    other = await nats.connect(nats_cluster.url.split(","))
    try:
        info = await other.jetstream().stream_info(audit)
        assert (info.config.num_replicas, info.state.messages) == (3, 50)
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2
    finally:
        await other.close()


def test_only_the_operator_may_take_or_restore_a_snapshot(tmp_path: Path) -> None:
    """With deploy/nats/nats-server.conf: a service's user is refused both, the admin is not."""
    users = ("matcher", "scheduler", "notifier", "admin")
    server = SecureNatsServer(DEPLOY_NATS, {user: f"{user}-{'p' * 32}" for user in users})
    server.start()
    admin, matcher = server.url_for("admin"), server.url_for("matcher")
    folder = tmp_path / "ok"
    try:
        assert cli(admin, "provision", "--namespace", "alongside")[0] == 0
        # The broker drops a request the user may not publish: the CLI gives up after its timeout.
        code, output = cli(matcher, "backup", "--to", str(tmp_path / "no"), "--stream", "ALONGSIDE_AUDIT", timeout_s=2)
        assert code == 1 and "ALONGSIDE_AUDIT" in output and "admin" in output
        code, output = cli(admin, "backup", "--to", str(folder), "--stream", "ALONGSIDE_MATCH")
        assert code == 0, output
        code, output = cli(matcher, "restore", "--from", str(folder), timeout_s=2)
        assert code == 1 and "admin" in output
        code, output = cli(admin, "restore", "--from", str(folder))  # the admin may, where the stream is gone
        assert code == 1 and "already in use" in output
    finally:
        server.close()
