"""Redis helpers: a client from a URL, key naming, and Lua scripts.

Keys look like ``<namespace>:<service>:{<tag>}:<rest>``. The hash tag names
the entity that needs atomicity: every key one atomic operation touches shares
it, so the operation stays valid on Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript


def client(url: str) -> aioredis.Redis:
    """A client for ``url``; connects lazily, on first command."""
    return aioredis.Redis.from_url(url, decode_responses=False, health_check_interval=10)


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


def load_script(r: aioredis.Redis, package: str, name: str) -> AsyncScript:
    """Register ``<package>/<name>.lua``; redis-py runs it by SHA with EVALSHA."""
    source = (resources.files(package) / f"{name}.lua").read_text()
    return r.register_script(source)
