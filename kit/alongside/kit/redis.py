"""Redis helpers: a client from a URL, key naming, and pipelined function calls.

Keys look like ``<namespace>:<service>:{<tag>}:<rest>``. The hash tag names
the entity that needs atomicity: every key one atomic operation touches shares
it, so the operation stays valid on Redis Cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from alongside.kit import tracing
from alongside.kit.batching import GroupCommit
from alongside.kit.broker_tls import BrokerTls
from alongside.kit.durable import NONE, Durability, connect, durability
from alongside.kit.errors import Unavailable
from alongside.kit.functions import missing

MAX_BATCH = 256  # function calls in one pipeline at most
SOCKET_TIMEOUT_S = 5.0  # redis-py's own default, for a client configured without one


def client(url: str, durable: Durability = NONE, tls: BrokerTls | None = None) -> aioredis.Redis:
    """A client for ``url`` (a server, or Sentinels: ``alongside.kit.durable``);
    connects lazily, on first command. With ``durable``, writes wait for replicas;
    ``tls``: the CA (and client certificate) for a ``rediss`` URL."""
    return connect(url, durable, tls, decode_responses=False, health_check_interval=10)


@dataclass(frozen=True)
class Keys:
    namespace: str
    service: str

    def key(self, tag: str, *rest: str) -> str:
        if "{" in tag or "}" in tag:
            raise ValueError("a hash tag may not contain braces")
        return ":".join((self.namespace, self.service, "{" + tag + "}", *rest))

    def pattern(self, *rest: str) -> str:
        """A SCAN pattern over every tag of this service."""
        return ":".join((self.namespace, self.service, "{*}", *rest))


class PipelinedFunction:
    """A Valkey function (``alongside.kit.functions``) called for many
    concurrent callers with group commit.

    Calls that arrive while a pipeline is in flight go together in the next
    one: each is still its own atomic function call, but a busy service pays
    one round trip (and one connection checkout) per batch rather than per
    call. If the server does not have the function (an operator flushed it),
    each call fails with ``FunctionMissing``, which says how to load it. If a
    batch is interrupted, its callers get ``Unavailable``; a retry with the
    same idempotency key is safe.
    """

    def __init__(self, r: aioredis.Redis, name: str, max_batch: int = MAX_BATCH) -> None:
        self._r, self._name = r, name
        self._conn: Connection | None = None  # the writer's own (one writer sends at a time)
        self._timeout = SOCKET_TIMEOUT_S
        self._commit = GroupCommit(self._send, lambda: Unavailable("the write was interrupted; retry"), max_batch)
        self.round_trips = 0  # pipelines sent, for tests and benchmarks

    async def __call__(self, keys: Sequence[str], args: Sequence[Any]) -> Any:
        with tracing.valkey(self._name):  # one span per call, though calls share a round trip
            return await self._commit([len(keys), *keys, *args])

    async def _send(self, batch: list[list[Any]]) -> list[Any]:
        """One round trip of FCALLs."""
        self.round_trips += 1
        commands: list[tuple[Any, ...]] = [("FCALL", self._name, *args) for args in batch]
        durable = durability(self._r)
        if durable.min_replicas:  # in the same round trip: answered once a replica has the batch
            commands.append(durable.command())
        replies = await self._roundtrip(commands)
        if durable.min_replicas:
            durable.check(replies.pop())
        return [missing(self._name, reply) if isinstance(reply, ResponseError) else reply for reply in replies]

    async def _roundtrip(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Send the commands back to back and read their replies; a command's own
        error (not the connection's) is its reply.

        One writer sends at a time, so it keeps one connection for itself: no
        pool checkout, no pipeline object and no retry layer per batch. If the
        connection fails, it reconnects and sends the batch once more (after a
        Redis restart the kept socket is dead). That is safe only because every
        function called here is guarded by an idempotency record or writes nothing:
        one that ran before its reply was lost answers the second time as a
        replay.
        """
        if self._conn is None:
            self._conn = await self._r.connection_pool.get_connection()
            # redis-py would start a timer for every reply and a task for every
            # send on this connection, costing more than the function call itself;
            # one deadline on the whole exchange does instead. (The connection
            # stays checked out, so the pool still closes it with the client.)
            self._timeout = self._conn.socket_timeout or SOCKET_TIMEOUT_S
            self._conn.socket_timeout = None
        for attempt in (1, 2):
            try:
                async with asyncio.timeout(self._timeout):
                    if not self._conn.is_connected:
                        # connect() asks the Sentinels where the primary is now (a send would
                        # reconnect to the address it last had: after a failover, the old one).
                        await self._conn.connect()
                    return await _exchange(self._conn, commands)
            except TimeoutError as exc:  # the exchange's deadline: a hung server or network
                await self._conn.disconnect()  # the next send connects afresh
                if attempt == 2:
                    raise RedisTimeoutError("Redis did not answer in time") from exc
            except (ConnectionError, RedisConnectionError, RedisTimeoutError):
                await self._conn.disconnect()
                if attempt == 2:
                    raise
            except BaseException:
                await self._conn.disconnect()  # a half-read reply must not reach the next batch
                raise
        raise AssertionError("unreachable")


async def _exchange(conn: Connection, commands: list[tuple[Any, ...]]) -> list[Any]:
    await conn.send_packed_command(conn.pack_commands(commands))
    replies: list[Any] = []
    for _ in commands:
        try:
            replies.append(await conn.read_response())
        except ResponseError as exc:
            replies.append(exc)
    return replies
