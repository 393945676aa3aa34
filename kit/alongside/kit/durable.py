"""Valkey through Sentinel, and writes acknowledged only once a replica has them.

``REDIS_URL`` may name Sentinels instead of a server:
``redis+sentinel://[user:password@]host:port,host:port/<master name>/<db>``.
The client asks them where the primary is and, when a write fails because
the primary died or was demoted, asks again: a service follows a failover by
itself. (The login applies to the primary; the Sentinels are asked without
one, so their default user needs only ``SENTINEL MASTERS``: see
``deploy/valkey/sentinel.conf``.) ``rediss+sentinel://`` is the same over TLS,
to the Sentinels and to the primary alike (``alongside.kit.broker_tls``).

With ``REDIS_MIN_REPLICAS`` > 0, every write a service makes is followed, on
the same connection, by ``WAIT`` (or ``WAITAOF`` with ``REDIS_WAIT_AOF``): the
call answers only once that many replicas have the write, and fails with
UNAVAILABLE (retry with the same idempotency key) when they do not within
``REDIS_WAIT_TIMEOUT_MS``. Group-committed function calls
(``PipelinedFunction``) send the ``WAIT`` in the same round trip as their
batch; a MULTI/EXEC transaction or a pipeline with writes adds one round trip;
reads add nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from alongside.kit.broker_tls import REDIS_PREFIX, BrokerTls, redis_uses_tls
from alongside.kit.errors import Unavailable

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_TLS_SCHEME = "rediss+sentinel"
SENTINEL_TIMEOUT_S = 1.0  # one Sentinel's answer; the next is asked after it

# Commands that change nothing: no WAIT after them. Anything else counts as a write.
READS = frozenset(
    b"""PING ECHO GET MGET EXISTS TYPE TTL PTTL SCAN HGET HMGET HGETALL HVALS HKEYS HEXISTS HLEN SMEMBERS
    SISMEMBER SCARD ZCARD ZCOUNT ZSCORE ZRANGE ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE XLEN XRANGE XREVRANGE XREAD
    XINFO FCALL_RO WATCH UNWATCH MULTI DISCARD CLIENT SELECT INFO FUNCTION WAIT WAITAOF HELLO AUTH""".split()
)


@dataclass(frozen=True)
class Durability:
    """How many replicas must hold a write before it counts, and how long to wait."""

    min_replicas: int = 0
    timeout_ms: int = 1000
    aof: bool = False  # WAITAOF: on the replicas' disks (and ours), not only in their memory

    def command(self) -> tuple[Any, ...]:
        if self.aof:
            return ("WAITAOF", 1, self.min_replicas, self.timeout_ms)
        return ("WAIT", self.min_replicas, self.timeout_ms)

    def check(self, reply: Any) -> None:
        """Raise ``Unavailable`` unless ``reply`` (to ``command()``) says the write is held."""
        if isinstance(reply, Exception):
            raise Unavailable("could not confirm the write on a replica; retry") from reply
        replicas = int(reply[1]) if isinstance(reply, list) else int(reply)
        local_ok = not isinstance(reply, list) or int(reply[0]) >= 1
        if replicas < self.min_replicas or not local_ok:
            raise Unavailable("the write is not yet on a replica; retry")


NONE = Durability()


def durability(r: aioredis.Redis) -> Durability:
    return r.durability if isinstance(r, Client) else NONE


def writes(commands: Any) -> bool:
    """Whether a command stack (``[(args, options), ...]``) changes anything."""
    return any(_name(args[0]) not in READS for args, _ in commands)


def _name(command: Any) -> bytes:
    raw = command if isinstance(command, bytes) else str(command).encode()
    return raw.split(b" ", 1)[0].upper()


async def confirm(conn: Connection, d: Durability) -> None:
    """Wait on ``conn`` until ``d`` holds for this connection's last write."""
    await conn.send_command(*d.command())
    try:
        reply = await conn.read_response()
    except aioredis.ResponseError as exc:
        reply = exc
    d.check(reply)


class Client(aioredis.Redis):
    """A client that, with ``durability`` set, waits for replicas after each write."""

    durability: Durability = NONE

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> aioredis.client.Pipeline:
        if not self.durability.min_replicas:
            return super().pipeline(transaction, shard_hint)
        pipe = DurablePipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.durability = self.durability
        return pipe

    async def _send_command_parse_response(self, conn: Connection, command_name: Any, *args: Any, **kw: Any) -> Any:
        reply = await super()._send_command_parse_response(conn, command_name, *args, **kw)  # type: ignore[no-untyped-call]
        if self.durability.min_replicas and _name(command_name) not in READS:
            await confirm(conn, self.durability)
        return reply


class DurablePipeline(aioredis.client.Pipeline):
    """A pipeline (or MULTI/EXEC) followed by WAIT on its connection when it wrote.

    (Hooks redis-py's two execution paths, pinned in requirements.lock: the
    connection is still checked out there, and WAIT must run on it.)
    """

    durability: Durability = NONE

    async def _execute_transaction(self, connection: Connection, commands: Any, raise_on_error: bool) -> Any:
        replies = await super()._execute_transaction(connection, commands, raise_on_error)
        if writes(commands):
            await confirm(connection, self.durability)
        return replies

    async def _execute_pipeline(self, connection: Connection, commands: Any, raise_on_error: bool) -> Any:
        replies = await super()._execute_pipeline(connection, commands, raise_on_error)
        if writes(commands):
            await confirm(connection, self.durability)
        return replies


@dataclass(frozen=True)
class SentinelUrl:
    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int
    username: str | None
    password: str | None
    tls: bool = False


def is_sentinel_url(url: str) -> bool:
    return url.startswith((SENTINEL_SCHEME + ":", SENTINEL_TLS_SCHEME + ":"))


def parse_sentinel_url(url: str) -> SentinelUrl:
    """``redis[s]+sentinel://[user:password@]host:port,host:port/master/db``; ``ValueError`` when malformed."""
    parts = urlsplit(url)
    if parts.scheme not in (SENTINEL_SCHEME, SENTINEL_TLS_SCHEME):
        raise ValueError(f"not a {SENTINEL_SCHEME} or {SENTINEL_TLS_SCHEME} URL")
    credentials, _, hosts = parts.netloc.rpartition("@")
    sentinels = []
    for host_port in hosts.split(","):
        host, _, port = host_port.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("each Sentinel must be host:port")
        sentinels.append((host, int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not 1 <= len(path) <= 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("the path must be /<master name>[/<db>]")
    user, _, password = credentials.partition(":")
    return SentinelUrl(
        tuple(sentinels),
        path[0],
        int(path[1]) if len(path) == 2 else 0,
        unquote(user) or None,
        unquote(password) or None,
        parts.scheme == SENTINEL_TLS_SCHEME,
    )


def tls_options(url: str, tls: BrokerTls | None) -> dict[str, Any]:
    """redis-py's TLS options for ``url``: none for plain text, else verified against
    ``tls``'s CA; for Sentinels, with ``ssl`` (which their clients need to use TLS at all)."""
    tls = tls or BrokerTls(REDIS_PREFIX)
    if not redis_uses_tls(url, tls):
        return {}
    return {"ssl": True, **tls.redis_options()} if is_sentinel_url(url) else tls.redis_options()


def sentinel_manager(found: SentinelUrl, tls_kwargs: dict[str, Any]) -> Sentinel:
    """The Sentinels of ``found``, asked over TLS when ``tls_kwargs`` (``tls_options``) say so."""
    timeouts = {"socket_timeout": SENTINEL_TIMEOUT_S, "socket_connect_timeout": SENTINEL_TIMEOUT_S}
    return Sentinel(list(found.sentinels), sentinel_kwargs={**timeouts, **tls_kwargs})


def connect(url: str, d: Durability = NONE, tls: BrokerTls | None = None, **kwargs: Any) -> Client:
    """A client for a server URL or a Sentinel URL; connects lazily. ``tls``: the
    CA (and client certificate) for a ``rediss`` URL; without it, the system's CAs."""
    secure = tls_options(url, tls)
    if is_sentinel_url(url):
        found = parse_sentinel_url(url)
        manager = sentinel_manager(found, secure)
        options = {"db": found.db, "username": found.username, "password": found.password, **secure, **kwargs}
        r = manager.master_for(found.master, redis_class=Client, **options)
        assert isinstance(r, Client)
    else:
        r = Client.from_url(url, **secure, **kwargs)
        assert isinstance(r, Client)
    r.durability = d
    return r


class _BlockingSentinelPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """A Sentinel-managed pool whose callers wait for a free connection."""


def connect_blocking(url: str, max_connections: int, tls: BrokerTls | None = None) -> Client:
    """A client whose callers wait (rather than fail) past ``max_connections``."""
    if is_sentinel_url(url):
        return connect(
            url, tls=tls, connection_pool_class=_BlockingSentinelPool, max_connections=max_connections, timeout=None
        )
    secure = tls_options(url, tls)
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=None, **secure)
    return Client(connection_pool=pool)
