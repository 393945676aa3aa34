"""pytest plugin: real NATS and Valkey for the test session, unique names per test.

Servers start once per session on free ports in temporary folders and are the
only ones tests talk to; under pytest-xdist each worker is a session of its
own, with servers of its own. Point at external servers with ``--nats-url`` /
``--redis-url`` (or ALONGSIDE_TEST_NATS_URL / ALONGSIDE_TEST_REDIS_URL); the
plugin never stops what it did not start. Each test gets its own namespace, so
its subjects, streams and keys are its own.

On the session's own Valkey, ``redis_url`` logs in as a user allowed only the
commands production grants the services (``deploy/valkey/users.acl``), so a
service that starts sending a new command fails its tests, not production.
Test code that needs more (INFO, FUNCTION FLUSH) uses ``redis_admin_url``.
Every Valkey the plugin starts or is given gets the project's function
libraries loaded first, as an operator would (``alongside valkey provision``).

Tests of the production topology ask for ``nats_cluster`` (three nodes,
JetStream, ``sync_interval: always``) or ``valkey_ha`` (a primary, a
replica and three Sentinels, AOF ``always``): each test that does gets its
own, which it may kill parts of. Everything else keeps the single servers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from alongside.kit.testing.auth import TEST_SECRET
from alongside.kit.testing.cluster import NatsCluster, ValkeyHA
from alongside.kit.testing.oidc_provider import OidcProvider
from alongside.kit.testing.servers import (
    NatsServer,
    ValkeyServer,
    provision_functions,
    restrict_to_service_commands,
)


def pytest_configure(config: pytest.Config) -> None:
    # Services started as child processes verify tokens with the test secret.
    os.environ.setdefault("AUTH_HS256_SECRET", TEST_SECRET)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("alongside")
    group.addoption("--nats-url", default=os.environ.get("ALONGSIDE_TEST_NATS_URL"), help="use this NATS")
    group.addoption("--redis-url", default=os.environ.get("ALONGSIDE_TEST_REDIS_URL"), help="use this Redis")


@pytest.fixture(scope="session")
def nats_url(request: pytest.FixtureRequest) -> Iterator[str]:
    external = request.config.getoption("--nats-url")
    if external:
        yield external
        return
    with NatsServer() as server:
        yield server.url  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def valkey_logins(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """The session's Valkey: a login with the services' commands, and an admin's."""
    external = request.config.getoption("--redis-url")
    if external:
        provision_functions(external)
        yield external, external
        return
    server = ValkeyServer()
    server.start()
    try:
        logins = restrict_to_service_commands(server)
        provision_functions(logins[1])
        yield logins
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_url(valkey_logins: tuple[str, str]) -> str:
    return valkey_logins[0]


@pytest.fixture(scope="session")
def redis_admin_url(valkey_logins: tuple[str, str]) -> str:
    return valkey_logins[1]


@pytest.fixture
def namespace() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def own_valkey() -> Iterator[ValkeyServer]:
    """A Valkey of this test's own, for tests that stop and restart it."""
    server = ValkeyServer()
    server.start()
    provision_functions(server.url)
    yield server
    server.close()


@pytest.fixture
def own_nats() -> Iterator[NatsServer]:
    """A nats-server of this test's own, for tests that stop and restart it."""
    server = NatsServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def oidc_provider() -> Iterator[OidcProvider]:
    """A throwaway OpenID provider on a loopback port, with its own RSA key."""
    with OidcProvider() as provider:
        yield provider


@pytest.fixture
def nats_cluster() -> Iterator[NatsCluster]:
    """Three nats-servers as one JetStream cluster, this test's own (``url`` is the seed list)."""
    with NatsCluster() as cluster:
        yield cluster


@pytest.fixture
def valkey_ha() -> Iterator[ValkeyHA]:
    """A Valkey primary, a replica and three Sentinels, this test's own, functions loaded.
    ``url`` reaches the primary through the Sentinels with the services' commands."""
    with ValkeyHA() as ha:
        provision_functions(ha.admin_url)
        yield ha
