"""gRPC channels and stubs for the three services, made on first use.

Every call goes through ``Service.call`` (or ``stream``/``future``): it sets
the deadline and a correlation id, and turns a failed call into a
``CliError`` that names the service and its address.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.cli.config import Config
from alongside.cli.errors import from_rpc
from alongside.kit.grpc.retry import channel_options

STUBS: dict[str, Any] = {
    "matcher": matcher_pb2_grpc.MatcherServiceStub,
    "scheduler": scheduler_pb2_grpc.SchedulerServiceStub,
    "notifier": notifier_pb2_grpc.NotifierServiceStub,
}
CORRELATION_HEADER = "x-correlation-id"


def idempotency_key(given: str | None) -> str:
    """The caller's key (so a script can retry safely), or a fresh one per invocation."""
    return given if given else "cli-" + uuid.uuid4().hex


class Service:
    """One service: its address, a lazily opened channel and its stub."""

    def __init__(self, name: str, address: str, timeout_s: float, correlation_id: str, token: str = "") -> None:
        self.name, self.address, self.timeout_s = name, address, timeout_s
        self.correlation_id = correlation_id
        self.token = token
        self._channel: grpc.Channel | None = None
        self._stub: Any = None

    @property
    def stub(self) -> Any:
        if self._stub is None:
            # Calls with an idempotency key are retried on UNAVAILABLE (alongside.kit.grpc.retry).
            self._channel = grpc.insecure_channel(self.address, options=channel_options())
            self._stub = STUBS[self.name](self._channel)
        return self._stub

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        pairs = [(CORRELATION_HEADER, self.correlation_id)]
        if self.token:
            pairs.append(("authorization", f"Bearer {self.token}"))
        return tuple(pairs)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Map a gRPC failure inside the block to a friendly ``CliError``."""
        try:
            yield
        except grpc.RpcError as exc:
            raise from_rpc(exc, self.name, self.address, self.correlation_id) from None

    def call(self, rpc: str, request: Message, timeout_s: float | None = None) -> Any:
        with self.guard():
            return getattr(self.stub, rpc)(request, timeout=timeout_s or self.timeout_s, metadata=self.metadata)

    def future(self, rpc: str, request: Message, timeout_s: float) -> Any:
        """A call in flight (``grpc.Future``); read it with ``result()`` inside ``guard()``."""
        with self.guard():
            return getattr(self.stub, rpc).future(request, timeout=timeout_s, metadata=self.metadata)

    def stream(self, rpc: str, request: Message, timeout_s: float | None = None) -> Iterator[Any]:
        """A server stream; no deadline unless one is given (a tail follows forever)."""
        with self.guard():
            call = getattr(self.stub, rpc)(request, timeout=timeout_s, metadata=self.metadata)
            try:
                yield from call
            finally:
                call.cancel()

    def collect(self, rpc: str, request: Any, items: str, limit: int, page_size: int = 200) -> list[Any]:
        """Follow ``next_page_token`` until ``limit`` items (0: all of them)."""
        out: list[Any] = []
        while True:
            request.page_size = min(page_size, limit - len(out)) if limit else page_size
            reply = self.call(rpc, request)
            out.extend(getattr(reply, items))
            if not reply.next_page_token or (limit and len(out) >= limit):
                return out[:limit] if limit else out
            request.page_token = reply.next_page_token

    def health(self, timeout_s: float) -> str:
        """The server's overall health status name, e.g. ``SERVING``."""
        self.stub  # noqa: B018 - opens the channel
        assert self._channel is not None
        with self.guard():
            reply = health_pb2_grpc.HealthStub(self._channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout_s
            )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel, self._stub = None, None


class Clients:
    def __init__(self, config: Config) -> None:
        self.correlation_id = "cli-" + uuid.uuid4().hex[:16]
        self.services = {
            name: Service(name, address, config.timeout_s, self.correlation_id, config.token)
            for name, address in config.addresses.items()
        }

    @property
    def matcher(self) -> Service:
        return self.services["matcher"]

    @property
    def scheduler(self) -> Service:
        return self.services["scheduler"]

    @property
    def notifier(self) -> Service:
        return self.services["notifier"]

    def close(self) -> None:
        for service in self.services.values():
            service.close()
