"""The runbook's backup and restore, proven: a real matcher writes through a
real nats-server and Valkey, the backup is taken with the very commands
docs/operations.md gives (its blocks marked ``<!-- tested: NAME -->`` run
here in bash, word for word), new servers start from it (once from the AOF,
once from the RDB), and a new matcher finds the match, the intake and every
audit record, none of them marked missing, unreadable or unsigned.

The backup is taken in the runbook's order, Valkey then the streams, with
an audit record still in the outbox (NATS away) during the Valkey backup and
relayed before the stream backup: after the restore the relay publishes it
again. The trail holds it, possibly twice (a restored stream does not
remember the ids it has seen), never not at all.

Only ``valkey-cli`` is played by a stand-in (``valkey_cli.py``), as this
machine has only ``valkey-server``; it sends the same commands to the same
server. ``alongside`` is the real CLI of this checkout.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import TEST_AUTH, channel
from alongside.kit.testing.servers import NatsServer, ValkeyServer
from alongside.kit.testing.wait import eventually
from alongside.matcher.bootstrap import build
from alongside.matcher.settings import MatcherSettings

from ..matcher.conftest import NOW, intake, peer
from .runbook import run, shell_env


class DeployedValkey(ValkeyServer):
    """The harness's Valkey with deploy/valkey/valkey.conf's AOF folder name,
    and the AOF switched off for the first start of an RDB restore."""

    def __init__(self, root: Path, *, appendonly: bool = True) -> None:
        super().__init__(root)
        self.appendonly = appendonly

    def _command(self) -> list[str]:
        # Later options win: these override the harness's own.
        aof = "yes" if self.appendonly else "no"
        return [*super()._command(), "--appenddirname", "appendonly", "--appendonly", aof]


@pytest.fixture
def shell(tmp_path: Path) -> dict[str, str]:
    return {**shell_env(tmp_path), "BACKUP": str(tmp_path / "backup")}


@asynccontextmanager
async def matcher_on(nats_url: str, redis_url: str, namespace: str, **settings: object) -> AsyncIterator[Runtime]:
    config = MatcherSettings.from_env(
        {}, **TEST_AUTH, nats_url=nats_url, redis_url=redis_url, namespace=namespace, **settings
    )
    runtime = build(config, clock=lambda: NOW)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def trail(runtime: Runtime) -> list[audit_pb2.AuditRecord]:
    """Every audit record, oldest first, as a manager reads them."""
    found: list[audit_pb2.AuditRecord] = []
    token = ""
    async with channel(f"127.0.0.1:{runtime.port}", role="manager", subject="m-1") as chan:
        stub = audit_pb2_grpc.AuditServiceStub(chan)
        while True:
            page = await stub.ListAuditRecords(audit_pb2.ListAuditRecordsRequest(page_size=200, page_token=token))
            found += page.records
            token = page.next_page_token
            if not token:
                return found


async def outbox_empty(runtime: Runtime) -> None:
    deps = runtime.deps
    assert deps is not None

    async def empty() -> bool:
        return not [k async for k in deps.redis.scan_iter(match=deps.keys.pattern("outbox"))]

    await eventually(empty, timeout=20, what="outbox relayed")


async def read_as(runtime: Runtime, subject: str, request_id: str) -> None:
    async with channel(f"127.0.0.1:{runtime.port}", role="intake", subject=subject) as chan:
        await matcher_pb2_grpc.MatcherServiceStub(chan).GetIntake(pb.GetIntakeRequest(request_id=request_id))


def key(record: audit_pb2.AuditRecord) -> tuple[object, ...]:
    return (record.sequence, record.index, record.actor, record.role, record.action, record.object_id, record.outcome)


async def write_the_data(runtime: Runtime) -> tuple[str, str, list[tuple[object, ...]]]:
    """Peers, an intake and its acceptance; returns the request, the match and the
    audit trail once the relay has carried every record to the AUDIT stream."""
    async with channel(f"127.0.0.1:{runtime.port}", role="manager", subject="m-1") as chan:
        manager = matcher_pb2_grpc.MatcherServiceStub(chan)
        for p in ("bk-p1", "bk-p2"):
            await manager.UpsertPeer(pb.UpsertPeerRequest(idempotency_key=f"up-{p}", peer=peer(p)))
    async with channel(f"127.0.0.1:{runtime.port}", role="intake", subject="staff-7") as chan:
        staff = matcher_pb2_grpc.MatcherServiceStub(chan)
        request_id = (await staff.SubmitMatchRequest(intake("bk-1"))).request.request_id
        await staff.GetIntake(pb.GetIntakeRequest(request_id=request_id))
        accepted = await staff.AcceptMatch(
            pb.AcceptMatchRequest(idempotency_key="bk-acc", request_id=request_id, peer_id="bk-p1")
        )
    seen: list[audit_pb2.AuditRecord] = []

    async def relayed() -> bool:
        seen[:] = await trail(runtime)
        return {"SubmitMatchRequest", "GetIntake", "AcceptMatch"} <= {r.action.rsplit("/", 1)[1] for r in seen}

    await eventually(relayed, timeout=20, what="the intake's audit records on the AUDIT stream")
    assert not [r.problem for r in seen if r.problem]
    return request_id, accepted.match.match_id, [key(r) for r in seen]


async def read_back(runtime: Runtime, request_id: str, match_id: str, before: list[tuple[object, ...]]) -> None:
    await outbox_empty(runtime)  # the record the Valkey backup still held in its outbox, published again
    async with channel(f"127.0.0.1:{runtime.port}", role="intake", subject="staff-7") as chan:
        staff = matcher_pb2_grpc.MatcherServiceStub(chan)
        match = (await staff.GetMatch(pb.GetMatchRequest(match_id=match_id))).match
        assert (match.request_id, match.peer_id, match.status) == (request_id, "bk-p1", pb.MATCH_STATUS_ACTIVE)
        assert (await staff.GetIntake(pb.GetIntakeRequest(request_id=request_id))).request.request_id == request_id
    after = await trail(runtime)
    assert [r.problem for r in after if r.problem] == []
    # Every record of the backup is there, at its place; the new matcher's own reads come after.
    assert [key(r) for r in after][: len(before)] == before
    assert len([r for r in after if r.actor == "staff-late"]) in (1, 2), "the outbox's record is on the trail"


async def test_a_backup_restores_into_fresh_servers_with_the_data_and_the_whole_audit_trail(
    own_nats: NatsServer, own_valkey: ValkeyServer, namespace: str, shell: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **shell,
        "VALKEY_ADMIN_URL": own_valkey.url,
        "VALKEY_DIR": str(own_valkey.root),
        "NATS_URL": own_nats.url,
        "NAMESPACE": namespace,
    }
    async with matcher_on(own_nats.url, own_valkey.url, namespace) as running:
        request_id, match_id, _ = await write_the_data(running)
        # Taken while the matcher serves, as the runbook says; its last record waits in the outbox.
        own_nats.stop()
        await read_as(running, "staff-late", request_id)
        run("backup-valkey", env, tmp_path)
        own_nats.start()
        await outbox_empty(running)
        before = [key(r) for r in await trail(running)]
        assert [k for k in before if k[2] == "staff-late"], "relayed before the stream backup"
        printed = run("backup-jetstream", env, tmp_path)
    own_nats.stop()
    own_valkey.stop()  # the originals are gone; only the backup is left
    backup = Path(shell["BACKUP"])
    assert (backup / "dump.rdb").is_file() and (backup / "aof").is_dir()
    assert f"{namespace.upper()}_AUDIT" in printed

    for source in ("aof", "rdb"):
        valkey_dir = tmp_path / f"valkey-{source}"
        env = {**shell, "VALKEY_DIR": str(valkey_dir), "NAMESPACE": namespace}
        if source == "aof":
            run("restore-valkey-aof", env, tmp_path)
            valkey = DeployedValkey(valkey_dir)
            valkey.start()
        else:
            run("restore-valkey-rdb-files", env, tmp_path)
            first = DeployedValkey(valkey_dir, appendonly=False)
            first.start()
            run("restore-valkey-rdb-aof", {**env, "VALKEY_ADMIN_URL": first.url}, tmp_path)
            first.stop()
            valkey = DeployedValkey(valkey_dir)  # restarted as usual: it loads the AOF it wrote
            valkey.start()
        nats_server = NatsServer(tmp_path / f"nats-{source}")
        nats_server.start()
        try:
            run("restore-jetstream", {**env, "NATS_URL": nats_server.url}, tmp_path)
            # Nothing provisions the functions: they must have come back with the data.
            async with matcher_on(nats_server.url, valkey.url, namespace, provision_functions=False) as restored:
                await read_back(restored, request_id, match_id, before)
        finally:
            nats_server.stop()
            valkey.stop()
    assert os.listdir(tmp_path / "valkey-rdb" / "appendonly"), "the RDB restore wrote no AOF"
