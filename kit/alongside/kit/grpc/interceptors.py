"""Server interceptor: server span, correlation id, request log, deadline, error mapping.

Handlers raise domain errors; this turns them into ``context.abort`` with the
status from ``errors.STATUS`` and the error's (personal-data-free) message.
Anything unexpected becomes INTERNAL with a generic message, so no handler
answers UNKNOWN and no stack trace reaches a client.

With tracing on, each call is a server span (``alongside.kit.tracing``)
around all of it, so its log line and its latency's exemplar name it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
from grpc import aio
from nats.errors import ConnectionClosedError, NoServersError
from nats.errors import TimeoutError as NatsTimeout
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout

from alongside.kit import tracing
from alongside.kit.aio import Deadlines
from alongside.kit.audit import Auditor, Pending
from alongside.kit.auth.policy import Authorizer, reset
from alongside.kit.auth.tokens import Identity
from alongside.kit.errors import DomainError, Unavailable
from alongside.kit.grpc.errors import status_for
from alongside.kit.ids import new_id
from alongside.kit.logging import bind_correlation, bind_more, get_logger, unbind_correlation
from alongside.kit.metrics import RpcMetrics

log = get_logger("alongside.rpc")
CORRELATION_HEADER = "x-correlation-id"
# How long a refused call waits for its audit record once its deadline has passed.
REFUSAL_RECORD_WAIT_S = 0.1
Metadata = Sequence[tuple[str, Any]]
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,
    OSError,
    RedisConnectionError,
    RedisTimeout,
    ConnectionClosedError,
    NoServersError,
    NatsTimeout,
)


def _correlation_id(metadata: Metadata) -> str:
    for key, value in metadata:
        if key == CORRELATION_HEADER and isinstance(value, str) and 0 < len(value) <= 64:
            return value
    return new_id("c")


class ServiceInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(
        self,
        default_deadline_s: float,
        authorizer: Authorizer | None = None,
        auditor: Auditor | None = None,
        skip: tuple[str, ...] = ("/grpc.health", "/grpc.reflection"),
    ) -> None:
        self._deadline = default_deadline_s
        self._auth = authorizer
        self._auditor = auditor
        self._skip = skip
        self._deadlines = Deadlines()
        self._metrics = RpcMetrics()
        # Handlers are all registered before the server starts, so each
        # method's wrapped handler is built once, on its first call.
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    async def _authenticate(self, metadata: Metadata) -> Identity | None:
        return None if self._auth is None else await self._auth.authenticate_async(metadata)

    def _permit(self, method: str, who: Identity | None, binding: dict[str, Any]) -> None:
        """Authorise the call; bind the caller's role for the logs and identity
        for handlers (into ``binding``, which ``_unbind`` undoes)."""
        if self._auth is None or who is None:
            return
        binding["identity"] = self._auth.permit(method, who)
        bind_more(role=who.role)

    def _open(self, method: str, request: Any, metadata: Metadata) -> Pending | None:
        """Start owing the call an audit record (if its method is audited)."""
        return None if self._auditor is None else self._auditor.open(method, request, metadata)

    async def _close(self, pending: Pending | None, code: grpc.StatusCode, response: Any = None) -> None:
        """Write the call's audit record unless its transaction did; only a
        successful call must have one written."""
        if self._auditor is not None:
            await self._auditor.close(pending, code.name, response)

    async def _close_refused(self, pending: Pending | None, code: grpc.StatusCode, until: float) -> None:
        """A refused call's record, waited for while the call's deadline lasts
        (at least ``REFUSAL_RECORD_WAIT_S``). Past that the call answers; the
        record stays queued and the audit writer writes it when Redis lets it."""
        wait = max(until - asyncio.get_running_loop().time(), REFUSAL_RECORD_WAIT_S)
        try:
            async with asyncio.timeout(wait):
                await self._close(pending, code)
        except TimeoutError:
            log.warning("audit.record_late", code=code.name)

    def _done(self, method: str, code: grpc.StatusCode, started: float) -> None:
        """The call's log line, metrics and span status (method and status only)."""
        seconds = time.perf_counter() - started
        tracing.answered(code.name, code.value[0])
        self._metrics.observe(method, code.name, seconds)
        log.info("rpc", method=method, code=code.name, ms=round(seconds * 1000, 2))

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method: str = details.method  # type: ignore[attr-defined]
        known = self._handlers.get(method)
        if known is not None:
            return known
        handler = await continuation(details)
        if handler is None:
            return handler
        self._handlers[method] = self._wrap(method, handler)
        return self._handlers[method]

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if method.startswith(self._skip):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _unary(self, method: str, behaviour: Any) -> Any:
        async def traced(request: Any, context: aio.ServicerContext) -> Any:
            with tracing.server(method, context.invocation_metadata() or ()):
                return await wrapper(request, context)

        async def wrapper(request: Any, context: aio.ServicerContext) -> Any:
            started = time.perf_counter()
            metadata: Metadata = context.invocation_metadata() or ()
            binding = _bind(metadata, method)
            code = grpc.StatusCode.OK
            pending = self._open(method, request, metadata)
            remaining = context.time_remaining()
            budget = self._deadline if remaining is None else min(remaining, self._deadline)
            until = asyncio.get_running_loop().time() + budget
            try:
                who = await self._authenticate(metadata)
                if pending is not None:
                    pending.identity = who  # known to the audit record even if refused
                self._permit(method, who, binding)
                with self._deadlines.within(budget):
                    response = await behaviour(request, context)
                    # The record is part of the work: a hung Redis holds no call past its deadline.
                    await self._close(pending, code, response)
                return response
            except asyncio.CancelledError:
                code = _gone(context)  # the client went away: no answer, no disclosure
                raise
            except BaseException as exc:  # noqa: BLE001 - mapped, then re-raised as a status
                code, message = _map(exc)
                await self._close_refused(pending, code, until)
                await context.abort(code, message)
            finally:
                self._done(method, code, started)
                _unbind(binding)

        return traced if tracing.enabled() else wrapper  # off, no span and no extra step

    def _stream(self, method: str, behaviour: Any) -> Any:
        async def traced(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            with tracing.server(method, context.invocation_metadata() or ()):
                async for item in wrapper(request, context):
                    yield item

        async def wrapper(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.perf_counter()
            metadata: Metadata = context.invocation_metadata() or ()
            binding = _bind(metadata, method)
            code = grpc.StatusCode.OK
            pending = self._open(method, request, metadata)
            # A stream may stay open for hours; opening it (and refusing it) is bounded like a unary call.
            remaining = context.time_remaining()
            budget = self._deadline if remaining is None else min(remaining, self._deadline)
            until = asyncio.get_running_loop().time() + budget
            try:
                who = await self._authenticate(metadata)
                if pending is not None:
                    pending.identity = who
                self._permit(method, who, binding)
                with self._deadlines.within(budget):
                    await self._close(pending, code)  # the stream opens
                async for item in behaviour(request, context):
                    yield item
            except asyncio.CancelledError:
                code = _gone(context)
                raise
            except BaseException as exc:  # noqa: BLE001
                code, message = _map(exc)
                await self._close_refused(pending, code, until)
                await context.abort(code, message)
            finally:
                self._done(method, code, started)
                _unbind(binding)

        return traced if tracing.enabled() else wrapper


def _bind(metadata: Metadata, method: str) -> dict[str, Any]:
    """Bind the correlation id and RPC name for this call's logs; ``_unbind`` undoes it."""
    return {"correlation": bind_correlation(_correlation_id(metadata), rpc=method)}


def _unbind(binding: dict[str, Any]) -> None:
    identity = binding.pop("identity", None)
    if identity is not None:
        reset(identity)
    unbind_correlation(binding["correlation"])


def _gone(context: aio.ServicerContext) -> grpc.StatusCode:
    """How a cancelled call ended, for its log line and metrics: its deadline
    passed, or its client cancelled it (or went away)."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.CANCELLED


def _map(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status and message for ``exc``; re-raise what is not ours to map."""
    if isinstance(exc, aio.AbortError | asyncio.CancelledError | GeneratorExit):
        raise exc
    if isinstance(exc, TimeoutError):
        return grpc.StatusCode.DEADLINE_EXCEEDED, "the deadline passed before the work finished"
    if isinstance(exc, DomainError):
        return status_for(exc), exc.message
    if isinstance(exc, NotImplementedError):  # the generated servicer's default
        return grpc.StatusCode.UNIMPLEMENTED, "this RPC is not implemented yet"
    if isinstance(exc, _UNAVAILABLE):
        return grpc.StatusCode.UNAVAILABLE, Unavailable("a dependency is unavailable; retry").message
    log.error("rpc.internal_error", error=type(exc).__name__)
    return grpc.StatusCode.INTERNAL, "internal error"
