"""Servers that run the deploy/ configurations, certificates, and clients.

The NATS and Valkey configurations in deploy/ are written for
NAMESPACE=alongside, so these tests use that namespace on servers of their own
(each test starts its own pair on free ports).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import nats
import pytest
import redis.asyncio as aioredis
from nats.aio.client import Client

from alongside.kit import nats as kit_nats
from alongside.kit.redis import client
from alongside.kit.testing.certs import Authority
from alongside.kit.testing.secure_servers import SecureNatsServer, SecureValkeyServer
from alongside.kit.testing.servers import provision_functions

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
NAMESPACE = "alongside"
SERVICES = ("matcher", "scheduler", "notifier")


@pytest.fixture
def passwords() -> dict[str, str]:
    return {user: secrets.token_hex(16) for user in (*SERVICES, "admin")}


@pytest.fixture
def secure_nats(passwords: dict[str, str]) -> Iterator[SecureNatsServer]:
    server = SecureNatsServer(DEPLOY / "nats" / "nats-server.conf", passwords)
    server.start()
    yield server
    server.close()


@pytest.fixture
def secure_valkey(passwords: dict[str, str]) -> Iterator[SecureValkeyServer]:
    server = SecureValkeyServer(DEPLOY / "valkey" / "valkey.conf", DEPLOY / "valkey" / "users.acl", passwords)
    server.start()
    provision_functions(server.url_for("admin"))  # as deployed: the operator loads the functions
    yield server
    server.close()


@dataclass
class NatsUser:
    nc: Client
    errors: list[Exception]

    def denied(self, what: str) -> bool:
        """Whether the server reported a permissions violation mentioning ``what``."""
        # nats-py lower-cases the server's error line.
        return any("permissions violation" in str(e) and what.lower() in str(e) for e in self.errors)


NatsLogin = Callable[[str], Awaitable[NatsUser]]


@pytest.fixture
async def nats_as(secure_nats: SecureNatsServer) -> AsyncIterator[NatsLogin]:
    """Connect to the secure NATS as a user; errors the server sends are kept."""
    users: list[NatsUser] = []

    async def login(user: str) -> NatsUser:
        errors: list[Exception] = []

        async def on_error(exc: Exception) -> None:
            errors.append(exc)

        # Each service takes its replies on its own inboxes, as the kit connects it.
        prefix = kit_nats.inbox_prefix(user) if user in SERVICES else "_INBOX"
        nc = await nats.connect(
            secure_nats.url_for(user), error_cb=on_error, allow_reconnect=False, inbox_prefix=prefix
        )
        users.append(NatsUser(nc, errors))
        return users[-1]

    yield login
    for user in users:
        await user.nc.close()


class RedisLogin(Protocol):
    def __call__(self, user: str, db: int | None = None) -> aioredis.Redis: ...


@pytest.fixture
async def redis_as(secure_valkey: SecureValkeyServer) -> AsyncIterator[RedisLogin]:
    """A kit Redis client logged in as a user of the secure Valkey, on the
    user's own database or on ``db``."""
    clients: list[aioredis.Redis] = []

    def login(user: str, db: int | None = None) -> aioredis.Redis:
        clients.append(client(secure_valkey.url_for(user, db)))
        return clients[-1]

    yield login
    for r in clients:
        await r.aclose()


@dataclass(frozen=True)
class Pki:
    """Certificate files: the service CA's, and a rogue CA's that nobody trusts."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_ca: Path
    rogue_cert: Path
    rogue_key: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca, rogue = Authority("Alongside services CA"), Authority("Rogue CA")
    server_cert, server_key = ca.issue("matcher", client=False).write(folder, "server")
    client_cert, client_key = ca.issue("scheduler", server=False).write(folder, "client")
    rogue_cert, rogue_key = rogue.issue("scheduler").write(folder, "rogue")
    return Pki(
        ca.write(folder), server_cert, server_key, client_cert, client_key,
        rogue.write(folder, "rogue-ca"), rogue_cert, rogue_key,
    )  # fmt: skip
