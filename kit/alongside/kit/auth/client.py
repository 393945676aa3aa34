"""Client side: attach a bearer token to every call on a channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grpc import aio

from alongside.kit import tracing


class _Bearer:
    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token

    def _details(self, details: Any) -> Any:
        metadata = [*(details.metadata or ()), ("authorization", f"Bearer {self._token()}")]
        return aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


class BearerUnary(_Bearer, aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class BearerStream(_Bearer, aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


def bearer_channel(target: str, token: str | Callable[[], str], **kwargs: Any) -> aio.Channel:
    """An insecure (loopback/dev) channel that sends ``token`` on every call.

    ``token`` is called per call when given as a function, so a long-lived
    client can refresh it. One interceptor object per call kind: grpc.aio
    files an object that implements several kinds under the first only.
    With tracing on, each call gets a client span and carries its context.
    """
    source = token if callable(token) else (lambda: token)
    interceptors = [*tracing.client_interceptors(), BearerUnary(source), BearerStream(source)]
    return aio.insecure_channel(target, interceptors=interceptors, **kwargs)
