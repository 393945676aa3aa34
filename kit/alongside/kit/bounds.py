"""Size bounds on every string, bytes and repeated field of a request.

One walker over the request's descriptor, driven by one table per service:
a default for every string (characters), bytes field (bytes) and repeated
or map field (entries), and overrides by the field's full proto name
(``alongside.matcher.v1.Peer.display_name``). Because the walker reads the
descriptor, a field added tomorrow is bounded by the defaults without
anyone remembering to. The check runs before the handler (see
``BoundsInterceptor``), so no use case, store or log ever sees an oversize
value. Errors name the field's path in the request (``peer.display_name``,
``peer.languages[3]``), never the value.

These are size limits only; a service's content rules (ids, tags, zones,
emails) apply after them and can be stricter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from grpc import aio

from alongside.kit.errors import InvalidArgument

_STRING, _BYTES, _MESSAGE = FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES, FieldDescriptor.TYPE_MESSAGE


@dataclass(frozen=True)
class Limit:
    """An override: ``size`` bounds a string's characters or a bytes field's
    bytes (each element's, for a repeated one), ``items`` a repeated field's entries."""

    size: int | None = None
    items: int | None = None


@dataclass(frozen=True)
class _Plan:
    name: str
    kind: int
    repeated: bool
    is_map: bool
    size: int
    items: int
    deep: bool = False  # a message whose fields (or theirs) have bounds: walk it
    too_long: str = ""


@dataclass
class Bounds:
    max_chars: int = 256
    max_bytes: int = 64 * 1024
    max_items: int = 100
    fields: Mapping[str, Limit] = field(default_factory=dict)
    _plans: dict[str, dict[int, _Plan]] = field(default_factory=dict, init=False, repr=False)

    def check(self, message: Message) -> None:
        """Raise InvalidArgument naming the first field over its bound."""
        self._walk(message, "")

    def plan(self, fd: FieldDescriptor) -> _Plan:
        """The effective bound of one field."""
        override = self.fields.get(fd.full_name, Limit())
        is_map = fd.message_type is not None and bool(fd.message_type.GetOptions().map_entry)
        kind = fd.type
        default = self.max_bytes if kind == _BYTES else self.max_chars
        size = override.size if override.size is not None else default
        return _Plan(
            fd.name,
            kind,
            fd.is_repeated,
            is_map,
            size,
            override.items if override.items is not None else self.max_items,
            kind == _MESSAGE and _sized(fd.message_type),
            f"at most {size} {'bytes' if kind == _BYTES else 'characters'}",
        )

    def _plans_of(self, descriptor: Any) -> dict[int, _Plan]:
        found = self._plans.get(descriptor.full_name)
        if found is None:
            found = {fd.number: self.plan(fd) for fd in descriptor.fields}
            self._plans[descriptor.full_name] = found
        return found

    def _walk(self, message: Message, prefix: str) -> None:
        # Hot: every request passes here. Paths are built only on the way to an error.
        plans = self._plans_of(message.DESCRIPTOR)
        for fd, value in message.ListFields():
            plan = plans[fd.number]
            kind = plan.kind
            if not plan.repeated:
                if kind == _MESSAGE:
                    if plan.deep:
                        self._walk(value, f"{prefix}{plan.name}.")
                elif kind in (_STRING, _BYTES) and len(value) > plan.size:
                    raise InvalidArgument(prefix + plan.name, plan.too_long)
                continue
            if len(value) > plan.items:
                raise InvalidArgument(prefix + plan.name, f"at most {plan.items} entries")
            if plan.is_map:
                self._map(fd, value, prefix + plan.name)
            elif kind == _MESSAGE:
                if plan.deep:
                    for i, item in enumerate(value):
                        self._walk(item, f"{prefix}{plan.name}[{i}].")
            elif kind in (_STRING, _BYTES):
                for i, item in enumerate(value):
                    if len(item) > plan.size:
                        raise InvalidArgument(f"{prefix}{plan.name}[{i}]", plan.too_long)

    def _one(self, plan: _Plan, value: Any, path: str) -> None:
        if plan.kind == _MESSAGE:
            self._walk(value, path + ".")
        elif plan.kind in (_STRING, _BYTES) and len(value) > plan.size:
            raise InvalidArgument(path, plan.too_long)

    def _map(self, fd: FieldDescriptor, value: Any, path: str) -> None:
        entry = self._plans_of(fd.message_type)
        key_plan, value_plan = entry[1], entry[2]
        for key, item in value.items():
            self._one(key_plan, key, f"{path}.key")
            self._one(value_plan, item, f"{path}.value")

    def rows(self, services: Iterable[ServiceDescriptor]) -> Iterator[tuple[str, str]]:
        """(``Message.field``, its bound in words) for every string, bytes and
        repeated field reachable from the services' requests; for the docs."""
        seen: set[str] = set()
        pending: list[Any] = [m.input_type for s in services for m in s.methods]
        while pending:
            descriptor = pending.pop(0)
            if descriptor.full_name in seen:
                continue
            seen.add(descriptor.full_name)
            for fd in descriptor.fields:
                if fd.message_type is not None:
                    pending.append(fd.message_type)
                words = self._words(self.plan(fd))
                if words:
                    yield f"{descriptor.name}.{fd.name}", words

    @staticmethod
    def _words(plan: _Plan) -> str:
        unit = {_STRING: "characters", _BYTES: "bytes"}.get(plan.kind)
        size = f"{plan.size:,} {unit}" if unit and not plan.is_map else ""
        if not plan.repeated:
            return size
        return f"{plan.items:,} entries" + (f", {size} each" if size else "")


_SIZED: dict[str, bool] = {}


def _sized(descriptor: Any) -> bool:
    """Whether any field of the message type, or of those inside it, has a bound."""
    name = descriptor.full_name
    if name not in _SIZED:
        _SIZED[name] = True  # a message that holds itself is walked
        _SIZED[name] = any(
            fd.is_repeated or fd.type in (_STRING, _BYTES) or (fd.type == _MESSAGE and _sized(fd.message_type))
            for fd in descriptor.fields
        )
    return _SIZED[name]


Behaviour = Callable[[Any, aio.ServicerContext], Any]


class BoundsInterceptor(aio.ServerInterceptor):  # type: ignore[misc]
    """Checks every request against ``bounds`` before its handler runs.

    Placed after the kit's ``ServiceInterceptor``, so a refusal is mapped,
    logged, counted and audited like any INVALID_ARGUMENT, and only after the
    caller has been authenticated and authorised."""

    def __init__(self, bounds: Bounds, skip: tuple[str, ...] = ("/grpc.health", "/grpc.reflection")) -> None:
        self._bounds = bounds
        self._skip = skip

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method  # type: ignore[attr-defined]
        if handler is None or method.startswith(self._skip):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _unary(self, behaviour: Behaviour) -> Behaviour:
        check = self._bounds.check

        async def wrapper(request: Any, context: aio.ServicerContext) -> Any:
            check(request)
            return await behaviour(request, context)

        return wrapper

    def _stream(self, behaviour: Behaviour) -> Behaviour:
        check = self._bounds.check

        async def wrapper(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            check(request)
            async for item in behaviour(request, context):
                yield item

        return wrapper


def table_lines(bounds: Bounds, services: Iterable[ServiceDescriptor]) -> list[str]:
    """The Markdown table of ``bounds.rows`` (docs/<service>.md holds it)."""
    lines = ["| field | bound |", "|---|---|"]
    lines += [f"| `{name}` | {words} |" for name, words in bounds.rows(services)]
    return lines
