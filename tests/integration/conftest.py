from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats
import pytest
import redis.asyncio as aioredis
from nats.aio.client import Client
from nats.js import JetStreamContext

from alongside.kit.events.outbox import Outbox
from alongside.kit.events.streams import provision
from alongside.kit.redis import Keys, client
from alongside.kit.uow import UnitOfWork


@dataclass
class Kit:
    namespace: str
    redis: aioredis.Redis
    nc: Client
    js: JetStreamContext
    keys: Keys
    outbox: Outbox
    uow: UnitOfWork


@pytest.fixture
async def kit(nats_url: str, redis_url: str, namespace: str) -> AsyncIterator[Kit]:
    r = client(redis_url)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js, namespace)
    keys = Keys(namespace, "test")
    outbox = Outbox(r, keys)
    yield Kit(namespace, r, nc, js, keys, outbox, UnitOfWork(r, keys, outbox))
    await nc.drain()
    await r.aclose()
