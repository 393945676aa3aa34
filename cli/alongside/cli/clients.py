"""gRPC channels and stubs for the three services, made on first use.

Every call goes through ``Service.call`` (or ``stream``/``future``): it sets
the deadline and a correlation id, and turns a failed call into a
``CliError`` that names the service and its address.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.cli.config import Config
from alongside.cli.errors import CliError, ExitCode, from_rpc
from alongside.kit.grpc.retry import channel_options
from alongside.kit.grpc.server import stack_health_name

STACK_CHECK_TIMEOUT_S = 3.0
STUBS: dict[str, Any] = {
    "matcher": matcher_pb2_grpc.MatcherServiceStub,
    "scheduler": scheduler_pb2_grpc.SchedulerServiceStub,
    "notifier": notifier_pb2_grpc.NotifierServiceStub,
}
CORRELATION_HEADER = "x-correlation-id"


def idempotency_key(given: str | None) -> str:
    """The caller's key (so a script can retry safely), or a fresh one per invocation."""
    return given if given else "cli-" + uuid.uuid4().hex


COUNT_CAP = 5000


@dataclass(frozen=True)
class Listing:
    """One page of a list and how many there are in all."""

    items: list[Any]
    total: int
    exact: bool  # False: there are more than ``total``, the count stopped there
    next_page_token: str

    def title(self, noun: str) -> str:
        """``Peers (3)``, or ``Peers (50 of 203)`` when the page is not all of them."""
        if not self.next_page_token:
            return f"{noun} ({self.total})"
        return f"{noun} ({len(self.items)} of {self.total if self.exact else f'more than {self.total}'})"

    def hint(self) -> str:
        """What to run for the next page, or '' when this was the last."""
        if not self.next_page_token:
            return ""
        return (
            f"Showing {len(self.items)} of {self.total if self.exact else f'more than {self.total}'}."
            f" Next page: the same command with --page-token {self.next_page_token} (or --limit 0 for all)."
        )

    def json(self, key: str, items: list[Any]) -> dict[str, Any]:
        return {key: items, "total": self.total, "total_is_exact": self.exact, "next_page_token": self.next_page_token}


class Service:
    """One service: its address, a lazily opened channel and its stub."""

    def __init__(
        self,
        name: str,
        address: str,
        timeout_s: float,
        correlation_id: str,
        token: str = "",
        *,
        stack_id: str = "",
        data_dir: str = "",
        token_problem: str = "",
    ) -> None:
        self.name, self.address, self.timeout_s = name, address, timeout_s
        self.correlation_id = correlation_id
        self.token = token
        # A token minted from a stack's secret goes only to a server of that stack.
        self.stack_id, self.data_dir = stack_id, data_dir
        self.token_problem = token_problem
        self._stack_checked = not stack_id
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
            error = from_rpc(exc, self.name, self.address, self.correlation_id)
            if error.code == "UNAUTHENTICATED" and self.token_problem:
                error = CliError(f"{error.message}; {self.token_problem}", error.exit_code, error.code)
            raise error from None

    def is_stack(self, stack_id: str, timeout_s: float = STACK_CHECK_TIMEOUT_S) -> bool:
        """Whether the server here was started by the stack ``stack_id`` (asked without a token)."""
        self.stub  # noqa: B018 - opens the channel
        assert self._channel is not None
        try:
            health_pb2_grpc.HealthStub(self._channel).Check(
                health_pb2.HealthCheckRequest(service=stack_health_name(stack_id)), timeout=timeout_s
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                return False
            raise from_rpc(exc, self.name, self.address, self.correlation_id) from None
        return True

    def check_stack(self) -> None:
        """Before the first call with a stack's token: is this server that stack's?"""
        if self._stack_checked:
            return
        if not self.is_stack(self.stack_id, min(self.timeout_s, STACK_CHECK_TIMEOUT_S)):
            raise CliError(
                f"the {self.name} at {self.address} is not part of the stack in {self.data_dir}"
                f" (stack {self.stack_id}), so the CLI does not send it a token — is that"
                " `make run` still running? `alongside status` shows who answers where",
                ExitCode.UNREACHABLE,
                "WRONG_STACK",
            )
        self._stack_checked = True

    def call(self, rpc: str, request: Message, timeout_s: float | None = None) -> Any:
        self.check_stack()
        with self.guard():
            return getattr(self.stub, rpc)(request, timeout=timeout_s or self.timeout_s, metadata=self.metadata)

    def future(self, rpc: str, request: Message, timeout_s: float) -> Any:
        """A call in flight (``grpc.Future``); read it with ``result()`` inside ``guard()``."""
        self.check_stack()
        with self.guard():
            return getattr(self.stub, rpc).future(request, timeout=timeout_s, metadata=self.metadata)

    def stream(self, rpc: str, request: Message, timeout_s: float | None = None) -> Iterator[Any]:
        """A server stream; no deadline unless one is given (a tail follows forever)."""
        self.check_stack()
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

    def page(
        self, rpc: str, request: Any, items: str, limit: int, page_size: int = 200, count_cap: int = COUNT_CAP
    ) -> Listing:
        """``limit`` items (0: all) from ``request.page_token`` on, and how many
        there are in all: the rest is counted by paging on, up to ``count_cap``."""
        out: list[Any] = []
        while True:
            request.page_size = min(page_size, limit - len(out)) if limit else page_size
            reply = self.call(rpc, request)
            out.extend(getattr(reply, items))
            if not reply.next_page_token or (limit and len(out) >= limit):
                break
            request.page_token = reply.next_page_token
        shown = out[:limit] if limit else out
        next_token = reply.next_page_token if limit and len(out) >= limit else ""
        total, exact = len(shown), True
        if next_token:
            counter = type(request)()
            counter.CopyFrom(request)
            counter.page_token = next_token
            while True:
                counter.page_size = page_size
                reply = self.call(rpc, counter)
                total += len(getattr(reply, items))
                if not reply.next_page_token:
                    break
                if total - len(shown) >= count_cap:
                    exact = False
                    break
                counter.page_token = reply.next_page_token
        return Listing(shown, total, exact, next_token)

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
            name: Service(
                name,
                address,
                config.timeout_s,
                self.correlation_id,
                config.token,
                stack_id=config.stack_check(name),
                data_dir=str(config.found.stack.data_dir) if config.found.stack else "",
                token_problem=config.credentials.problem,
            )
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
