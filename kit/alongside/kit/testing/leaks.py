"""Finding planted values (canaries) in Redis and in JetStream, for the
erasure and privacy tests: every key and value under a pattern, and every
message of every stream but the audit trail."""

from __future__ import annotations

from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.redis import client


async def _values(r: Any, key: bytes) -> list[bytes]:
    kind = (await r.type(key)).decode()
    if kind == "string":
        return [await r.get(key)]
    if kind == "hash":
        return [b for kv in (await r.hgetall(key)).items() for b in kv]
    if kind == "set":
        return list(await r.smembers(key))
    if kind == "zset":
        return list(await r.zrange(key, 0, -1))
    if kind == "stream":
        return [b for _, fields in await r.xrange(key) for kv in fields.items() for b in kv]
    if kind == "list":
        return list(await r.lrange(key, 0, -1))
    return []


async def redis_leaks(admin_url: str, pattern: str, values: list[str]) -> list[str]:
    """``"<key>: <value>"`` for each key matching ``pattern`` whose name or value holds one of ``values``."""
    r: Any = client(admin_url)
    found: list[str] = []
    try:
        async for key in r.scan_iter(match=pattern, count=1000):
            text = key + b"".join(b for b in await _values(r, key) if b)
            found += [f"{key.decode()}: {v}" for v in values if v.encode() in text]
    finally:
        await r.aclose()
    return found


async def stream_leaks(js: JetStreamContext, namespace: str, values: list[str]) -> list[str]:
    """``"<stream>#<seq>: <value>"`` for each message (headers or body) of every
    stream but AUDIT that holds one of ``values``."""
    found: list[str] = []
    for spec in CATALOGUE:
        if spec.name == "AUDIT":
            continue
        name = stream_name(namespace, spec)
        info = await js.stream_info(name)
        if not info.state.messages:
            continue
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg(name, seq)
            except NotFoundError:  # a deleted message
                continue
            text = (msg.data or b"") + str(msg.headers).encode()
            found += [f"{name}#{seq}: {v}" for v in values if v.encode() in text]
    return found
