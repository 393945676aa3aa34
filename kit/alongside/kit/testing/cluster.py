"""The production topology on one machine: a NATS cluster and Valkey with Sentinels.

``NatsCluster``: three nats-servers as one cluster with JetStream (R3 streams
possible, ``sync_interval: always`` by default), each on its own ports and
store. ``ValkeyHA``: a Valkey primary, one replica and three Sentinels, AOF
``always``. Every process has its own free port and folder and can be killed
(``kill -9``), stopped (SIGSTOP) and restarted on the same port and data.
Used by the fixtures ``nats_cluster`` and ``valkey_ha`` and by ``make
run-cluster`` (``alongside.kit.hastack``).
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import redis

from alongside.kit.testing.servers import (
    SERVICE_ACL,
    NatsServer,
    ValkeyServer,
    free_port,
    service_commands,
    valkey_binary,
)

MASTER = "alongside"  # the name the Sentinels know the primary by


class ClusterNode(NatsServer):
    """One nats-server of a cluster, configured by a file in its folder."""

    def __init__(self, root: Path, name: str, cluster_port: int, routes: list[int], sync_always: bool) -> None:
        super().__init__(root)
        self.node_name, self.cluster_port, self.routes = name, cluster_port, routes
        self.sync_always = sync_always
        self.monitor_port = free_port()

    def start(self, timeout: float = 20.0) -> None:
        """Start; if another process took the cluster or monitoring port meanwhile
        (the server exits at once), try again on new ones: the other nodes find
        this one by its own routes to them."""
        for _ in range(5):
            super().start(timeout)
            time.sleep(0.3)
            assert self.proc is not None
            if self.proc.poll() is None:
                return
            if "address already in use" not in self.log.read_text().lower():
                raise RuntimeError(f"NATS node {self.node_name} exited: {self.log.read_text()[-2000:]}")
            self.cluster_port, self.monitor_port = free_port(), free_port()
        raise RuntimeError(f"NATS node {self.node_name} could not find free ports")

    def _command(self) -> list[str]:
        sync = "\n  sync_interval: always" if self.sync_always else ""
        routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in self.routes)
        conf = self.root / "node.conf"
        conf.write_text(
            f"server_name: {self.node_name}\nlisten: 127.0.0.1:{self.port}\nhttp: 127.0.0.1:{self.monitor_port}\n"
            f'jetstream {{\n  store_dir: "{self.root / "jetstream"}"{sync}\n}}\n'
            f"cluster {{\n  name: alongside\n  listen: 127.0.0.1:{self.cluster_port}\n  routes: [{routes}]\n}}\n"
        )
        return [super()._command()[0], "-c", str(conf)]

    def healthy(self) -> bool:
        """JetStream is up on this node, current, and the cluster has a meta leader (``/healthz``, ``/jsz``)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=1) as reply:
                ok = json.load(reply).get("status") == "ok"
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/jsz", timeout=1) as reply:
                leader = json.load(reply).get("meta_cluster", {}).get("leader")
        except (OSError, ValueError):
            return False
        return bool(ok and leader)

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """kill -9: no goodbye to the cluster, no flush."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class NatsCluster:
    def __init__(self, size: int = 3, root: Path | None = None, sync_always: bool = True) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="alongside-nats-cluster-")) if root is None else root.resolve()
        cluster_ports = [free_port() for _ in range(size)]
        self.nodes = [
            ClusterNode(self.root / f"n{i}", f"n{i}", port, [p for p in cluster_ports if p != port], sync_always)
            for i, port in enumerate(cluster_ports, start=1)
        ]

    @property
    def url(self) -> str:
        """The seed list, as NATS_URL takes it."""
        return ",".join(node.url for node in self.nodes)

    def start(self, timeout: float = 30.0) -> None:
        try:
            for node in self.nodes:
                node.start()
            self.wait_healthy(timeout)
        except BaseException:
            self.close()  # no node outlives a failed start
            raise

    def wait_healthy(self, timeout: float = 30.0, nodes: list[ClusterNode] | None = None) -> None:
        deadline = time.monotonic() + timeout
        for node in nodes or [n for n in self.nodes if n.proc is not None]:
            while not node.healthy():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"NATS node {node.node_name} not healthy within {timeout}s")
                time.sleep(0.1)

    def close(self) -> None:
        for node in self.nodes:  # SIGTERM to every node first: one at a time, the last waits on its lost routes
            if node.proc is not None and node.proc.poll() is None:
                node.resume()  # a stopped process cannot act on SIGTERM
                node.proc.terminate()
        for node in self.nodes:
            node.close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> NatsCluster:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _acl_lines(admin_password: str) -> str:
    """The admin, and the services' commands for the default user on every key (tests use random namespaces)."""
    rules = " ".join(service_commands(SERVICE_ACL.read_text()))
    return f"user admin on >{admin_password} ~* &* +@all\nuser default on nopass ~* {rules}\n"


class HaValkey(ValkeyServer):
    """A Valkey of the HA pair: AOF ``always``, the ACL in its config, the admin replicating."""

    def __init__(self, root: Path, admin_password: str, primary_port: int | None = None) -> None:
        super().__init__(root)
        self.admin_password, self.primary_port = admin_password, primary_port

    def _command(self) -> list[str]:
        conf = self.root / "valkey.conf"
        if not conf.exists():  # Sentinel rewrites it on a failover: keep what it wrote across restarts
            conf.write_text(
                _acl_lines(self.admin_password)
                + f"masteruser admin\nmasterauth {self.admin_password}\n"
                # A new replica gets its copy at once, not after the default 5 s wait for company.
                + "repl-diskless-sync-delay 0\n"
                + (f"replicaof 127.0.0.1 {self.primary_port}\n" if self.primary_port else "")
            )
        command = super()._command()
        command[command.index("everysec")] = "always"
        return [command[0], str(conf), *command[1:]]

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def start_as_replica_of(self, primary_port: int) -> None:
        """Start again (same port and data) as a replica of the current primary, as a
        supervisor does that asks the Sentinels first: the data it has beyond the
        primary's was never acknowledged, and Sentinel would demote it anyway."""
        conf = self.root / "valkey.conf"
        lines = [line for line in conf.read_text().splitlines() if not line.startswith(("replicaof", "slaveof"))]
        conf.write_text("\n".join([*lines, f"replicaof 127.0.0.1 {primary_port}", ""]))
        self.primary_port = primary_port
        self.start()


class SentinelProcess(ValkeyServer):
    name = "sentinel"

    def __init__(self, root: Path, primary_port: int, admin_password: str, peer_password: str) -> None:
        super().__init__(root)
        self.primary_port, self.admin_password, self.peer_password = primary_port, admin_password, peer_password

    def _command(self) -> list[str]:
        conf = self.root / "sentinel.conf"
        if not conf.exists():  # a Sentinel rewrites its file with what it learns: keep it across restarts
            conf.write_text(
                f"port {self.port}\nbind 127.0.0.1\ndir {self.root}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 10000\n"
                f"sentinel auth-user {MASTER} admin\nsentinel auth-pass {MASTER} {self.admin_password}\n"
                f"sentinel sentinel-user peer\nsentinel sentinel-pass {self.peer_password}\n"
                f"user peer on >{self.peer_password} ~* &* +@all\n"
                # Clients ask where the primary is, without a login; nothing else.
                "user default on nopass -@all +ping +client|setinfo +sentinel|masters"
                " +sentinel|get-master-addr-by-name +sentinel|slaves +sentinel|replicas +sentinel|sentinels\n"
            )
        return [valkey_binary(), str(conf), "--sentinel"]


class ValkeyHA:
    """A primary, a replica and three Sentinels (quorum 2)."""

    def __init__(self, root: Path | None = None) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="alongside-valkey-ha-")) if root is None else root.resolve()
        self.admin_password = uuid.uuid4().hex
        self.primary = HaValkey(self.root / "valkey-1", self.admin_password)
        self.replica: HaValkey | None = None
        self.sentinels: list[SentinelProcess] = []

    def start(self, timeout: float = 30.0) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.close()  # no process outlives a failed start
            raise

    def _start(self, timeout: float) -> None:
        self.primary.start()
        self.replica = HaValkey(self.root / "valkey-2", self.admin_password, self.primary.port)
        self.replica.start()
        peer_password = uuid.uuid4().hex
        self.sentinels = [
            SentinelProcess(self.root / f"sentinel-{i + 1}", self.primary.port, self.admin_password, peer_password)
            for i in range(3)
        ]
        for sentinel in self.sentinels:
            sentinel.start()
        self.wait_replicating(timeout)

    @property
    def servers(self) -> list[HaValkey]:
        return [s for s in (self.primary, self.replica) if s is not None]

    @property
    def url(self) -> str:
        """REDIS_URL for the services: the Sentinels, the master's name, db 0."""
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels) + f"/{MASTER}/0"

    @property
    def admin_url(self) -> str:
        return f"redis+sentinel://admin:{self.admin_password}@" + self.url.removeprefix("redis+sentinel://")

    def admin(self, server: HaValkey) -> redis.Redis:
        return redis.Redis(port=server.port, username="admin", password=self.admin_password, socket_timeout=2)

    def role(self, server: HaValkey) -> str:
        with self.admin(server) as r:
            return str(r.info("replication")["role"])

    def current_primary(self) -> HaValkey:
        """The server every running Sentinel names as primary (``LookupError`` while they differ)."""
        named = set()
        for sentinel in self.sentinels:
            if sentinel.proc is None:
                continue
            try:
                with redis.Redis(port=sentinel.port, socket_timeout=1) as s:
                    _host, port = s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
            except (redis.RedisError, TypeError, ValueError) as exc:
                raise LookupError("a Sentinel does not answer") from exc
            named.add(int(port))
        if len(named) != 1:
            raise LookupError(f"the Sentinels name {len(named)} primaries")
        port = named.pop()
        return next(server for server in self.servers if server.port == port)

    def restart(self, server: HaValkey) -> None:
        """Bring a killed server back as a replica of whichever is primary now."""
        primary = self.current_primary()
        if primary is server:
            server.start()
        else:
            server.start_as_replica_of(primary.port)

    def wait_replicating(self, timeout: float = 30.0) -> None:
        """Until the replica is in sync and every Sentinel knows both servers and the other Sentinels."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._replicating() and self._sentinels_ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"Valkey HA not ready within {timeout}s")

    def _replicating(self) -> bool:
        try:
            with self.admin(self.current_primary()) as r:
                info = r.info("replication")
        except (redis.RedisError, LookupError):
            return False
        return bool(info.get("connected_slaves", 0) >= 1 and "online" in str(info.get("slave0", {})))

    def _sentinels_ready(self) -> bool:
        for sentinel in self.sentinels:
            try:
                with redis.Redis(port=sentinel.port, socket_timeout=1) as s:
                    state = s.sentinel_masters()[MASTER]
            except (redis.RedisError, KeyError):
                return False
            if state["num-slaves"] < 1 or state["num-other-sentinels"] < len(self.sentinels) - 1:
                return False
        return True

    def close(self) -> None:
        for process in [*self.sentinels, *self.servers]:
            process.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ValkeyHA:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
