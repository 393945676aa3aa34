"""gRPC server construction, kept apart from serving so tests run the real
server in-process on port 0 and call it through a real stub."""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from alongside.kit.audit import Auditor
from alongside.kit.auth.policy import Authorizer
from alongside.kit.bounds import Bounds, BoundsInterceptor
from alongside.kit.grpc.interceptors import ServiceInterceptor

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# The largest request a server reads (gRPC's own default, said out loud): a
# bigger one is refused with RESOURCE_EXHAUSTED before it is parsed. The
# largest legitimate request is a roster CSV (at most 3 MiB, see docs/matcher.md);
# every field's own bound is checked after parsing (``alongside.kit.bounds``).
MAX_RECEIVE_BYTES = 4 * 1024 * 1024


def create_server(
    listen_addr: str,
    default_deadline_s: float = 30.0,
    credentials: grpc.ServerCredentials | None = None,
    authorizer: Authorizer | None = None,
    auditor: Auditor | None = None,
    reuse_port: bool = False,
    bounds: Bounds | None = None,
) -> tuple[aio.Server, int]:
    """A server on ``listen_addr``: TLS with ``credentials``
    (``alongside.kit.grpc.tls.server_credentials``), plaintext without.

    The port is this process's alone unless ``reuse_port`` (worker
    processes sharing it, see ``alongside.kit.workers``). Every request is
    held to ``bounds`` (the kit's defaults when not given)."""
    server = aio.server(
        interceptors=[
            ServiceInterceptor(default_deadline_s, authorizer, auditor),
            BoundsInterceptor(bounds or Bounds()),
        ],
        options=[("grpc.so_reuseport", int(reuse_port)), ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES)],
    )
    if credentials is None:
        port = server.add_insecure_port(listen_addr)
    else:
        port = server.add_secure_port(listen_addr, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {listen_addr}")
    return server, port


def stack_health_name(stack_id: str) -> str:
    """The health "service" a server started by ``make run`` answers for its stack id."""
    return f"alongside.stack.{stack_id}"


class Health:
    """The standard health service; one status for the server and each service."""

    def __init__(self, server: aio.Server, service_names: Iterable[str], stack_id: str = "") -> None:
        self.servicer = health.aio.HealthServicer()
        self.names = ("", *service_names, *((stack_health_name(stack_id),) if stack_id else ()))
        health_pb2_grpc.add_HealthServicer_to_server(self.servicer, server)
        self.serving: bool | None = None

    async def set(self, serving: bool) -> None:
        if serving == self.serving:
            return
        self.serving = serving
        # The overall status ("") flips last when coming up and first when
        # going down, so whoever sees it SERVING finds every service SERVING.
        order = (*self.names[1:], "") if serving else self.names
        for name in order:
            await self.servicer.set(name, SERVING if serving else NOT_SERVING)

    async def shutdown(self) -> None:
        await self.servicer.enter_graceful_shutdown()


def enable_reflection(server: aio.Server, service_names: Iterable[str]) -> None:
    names = (*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)
