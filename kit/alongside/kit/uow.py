"""Optimistic Redis transactions that carry their events and idempotency record.

``UnitOfWork.run`` WATCHes the keys a use case reads, lets it read and decide,
then writes state, outbox entries and the idempotency record in one MULTI/EXEC.
If another writer touched a watched key, EXEC fails and the use case runs again
on fresh data; after a few lost races the caller gets ``Aborted``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from alongside.kit import audit, tracing
from alongside.kit.errors import Aborted, InvalidArgument
from alongside.kit.events.envelope import Event
from alongside.kit.events.outbox import Outbox
from alongside.kit.functions import Function
from alongside.kit.redis import Keys, PipelinedFunction

IDEMPOTENCY_TTL_S = 7 * 24 * 3600
MAX_ATTEMPTS = 8


@dataclass
class Tx:
    """What a use case sees inside ``UnitOfWork.run``.

    Before ``begin()`` the pipeline executes reads immediately (keys are
    watched); after it, commands are queued for EXEC.
    """

    pipe: aioredis.client.Pipeline
    outbox: Outbox
    tags: set[str] = field(default_factory=set)
    started: bool = False

    async def watch(self, *keys: str) -> None:
        await self.pipe.watch(*keys)

    def begin(self) -> None:
        if not self.started:
            self.pipe.multi()
            self.started = True

    def emit(self, tag: str, event: Event) -> None:
        self.begin()
        self.outbox.append(self.pipe, tag, event)
        self.tags.add(tag)


@dataclass(frozen=True)
class Idempotency:
    """An idempotency key for a mutating RPC and a fingerprint of its request."""

    tag: str
    scope: str  # the RPC name
    key: str
    fingerprint: bytes

    @classmethod
    def of(cls, tag: str, scope: str, key: str, request: bytes) -> Idempotency:
        if not key or len(key) > 128:
            raise InvalidArgument("idempotency_key", "is required, at most 128 characters")
        return cls(tag, scope, key, hashlib.sha256(request).digest())


# Runs a batch of queued writes unless the idempotency key already holds a
# response: the check and the writes are one atomic step, one round trip.
# The writes travel packed (few arguments keep the client's per-argument
# encoding cheap): ARGV[4] is each command's argument count, ARGV[5] each
# argument's length, ARGV[6] the arguments back to back. (A Valkey function
# in the kit's library: ``alongside.kit.libraries``.)
GUARDED = Function(
    "alongside_kit_guarded",
    """
local stored = redis.call('HMGET', KEYS[1], 'fp', 'response')
if stored[1] then return {0, stored[1], stored[2]} end
local sizes, at, k = {}, 1, 0
for size in string.gmatch(ARGV[5], '%d+') do sizes[#sizes + 1] = tonumber(size) end
for count in string.gmatch(ARGV[4], '%d+') do
  local command = {}
  for j = 1, tonumber(count) do
    k = k + 1
    command[j] = string.sub(ARGV[6], at, at + sizes[k] - 1)
    at = at + sizes[k]
  end
  redis.call(unpack(command))
end
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'response', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1}
""",
)


def _packed(commands: list[tuple[tuple[Any, ...], Any]]) -> tuple[str, str, bytes]:
    """Argument counts, argument lengths and the arguments, for ``GUARDED``."""
    counts, sizes, parts = [], [], []
    for command, _options in commands:
        counts.append(str(len(command)))
        for arg in command:
            value = _bytes(arg)
            sizes.append(str(len(value)))
            parts.append(value)
    return ",".join(counts), ",".join(sizes), b"".join(parts)


def _bytes(arg: object) -> bytes:
    """A command argument as Redis receives it (as redis-py would encode it)."""
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, int | float) and not isinstance(arg, bool):
        return repr(arg).encode()
    raise TypeError(f"cannot send a {type(arg).__name__} to Redis")


class UnitOfWork:
    def __init__(self, r: aioredis.Redis, keys: Keys, outbox: Outbox) -> None:
        self._r, self._keys, self.outbox = r, keys, outbox
        self._guarded = PipelinedFunction(r, GUARDED.name)

    async def run_blind(self, body: Callable[[Tx], bytes], *, idempotency: Idempotency) -> bytes:
        """Like ``run`` for use cases that only write (they read nothing that
        another writer could change): one atomic function call, no WATCH round trips.
        Every key written must share the idempotency record's hash tag, and the
        response must be the call's own (it holds an id made for the call): a
        replay that answers with it is this call's commit, re-sent."""
        pipe = self._r.pipeline(transaction=False)
        tx = Tx(pipe, self.outbox, started=True)
        response = body(tx)
        record = audit.in_transaction(pipe, self.outbox, idempotency.tag, response)
        counts, sizes, packed = _packed(pipe.command_stack)
        args: list[bytes | str | int] = [idempotency.fingerprint, response, IDEMPOTENCY_TTL_S, counts, sizes, packed]
        result = await self._guarded([self._idem_key(idempotency)], args)
        if result[0] == 0:
            if result[1] != idempotency.fingerprint:
                raise InvalidArgument("idempotency_key", "was already used for a different request")
            stored: bytes = result[2]
            if stored != response:
                return stored  # another call's: a replay, whose record is its own, written when it ends
            # This call's own commit: it ran, its reply was lost and the batch was
            # re-sent (``PipelinedFunction``). Its record and events are in: as for
            # a first answer, the record counts as written and the relay is told.
        audit.committed(record)
        await self.outbox.committed(tx.tags | ({idempotency.tag} if record else set()))
        return response

    async def run(
        self,
        body: Callable[[Tx], Awaitable[bytes]],
        *,
        idempotency: Idempotency | None = None,
        attempts: int = MAX_ATTEMPTS,
    ) -> bytes:
        """Run ``body`` atomically; it returns the serialised response.

        With ``idempotency``, a replay returns the first response unchanged and
        emits nothing.
        """
        for _ in range(attempts):
            async with self._r.pipeline(transaction=True) as pipe:
                tx = Tx(pipe, self.outbox)
                record: audit.Pending | None = None
                try:
                    if idempotency is not None:
                        cached = await self._replay(tx, idempotency)
                        if cached is not None:
                            return cached
                    response = await body(tx)
                    tx.begin()
                    if idempotency is not None:
                        self._remember(tx, idempotency, response)
                    # The call's audit record commits with its change, in the
                    # outbox of a tag the transaction already writes.
                    tag = idempotency.tag if idempotency is not None else min(tx.tags, default=None)
                    if tag is not None:
                        record = audit.in_transaction(pipe, self.outbox, tag, response)
                    with tracing.transaction():
                        await pipe.execute()
                except WatchError:
                    continue
            audit.committed(record)
            await self.outbox.committed(tx.tags | ({tag} if record and tag else set()))
            return response
        raise Aborted("a concurrent change won the race; retry")

    def _idem_key(self, idem: Idempotency) -> str:
        return self._keys.key(idem.tag, "idem", idem.scope, idem.key)

    async def _replay(self, tx: Tx, idem: Idempotency) -> bytes | None:
        key = self._idem_key(idem)
        await tx.watch(key)
        stored = await tx.pipe.hgetall(key)
        if not stored:
            return None
        if stored[b"fp"] != idem.fingerprint:
            raise InvalidArgument("idempotency_key", "was already used for a different request")
        await tx.pipe.reset()
        response = stored[b"response"]
        return response if isinstance(response, bytes) else response.encode()

    def _remember(self, tx: Tx, idem: Idempotency, response: bytes) -> None:
        key = self._idem_key(idem)
        tx.pipe.hset(key, mapping={"fp": idem.fingerprint, "response": response})
        tx.pipe.expire(key, IDEMPOTENCY_TTL_S)
