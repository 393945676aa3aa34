"""What the fuzz suite needs from a running service: the RPCs it serves
(asked of the server itself, through reflection), a role each RPC's policy
allows, a generic call, and a snapshot of everything the service owns."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import math
import os
import pkgutil
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import redis.asyncio as aioredis
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from grpc import aio
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from nats.js import JetStreamContext

import alongside
import alongside.api
from alongside.kit.auth.policy import Policy
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Runtime
from alongside.kit.testing.auth import channel
from alongside.kit.testing.wait import eventually

from .strategies import POOL

# How long a stream may take to show a refusal after its initial metadata.
STREAM_SETTLE_S = 0.3

# The first a policy allows is used; ``service:*`` roles match by prefix.
ROLE_ORDER = ("admin", "manager", "intake", "service:", "peer")
SUBJECT = "p1"  # a peer token names a peer the generated ids often refer to
NOT_SERVICES = ("grpc.health.", "grpc.reflection.")
Snapshot = tuple[dict[bytes, bytes | None], dict[str, int]]


def import_everything() -> None:
    """Import every generated API module (so the descriptor pool knows every
    service) and every service's entrypoints (so every policy is found)."""
    for package in (alongside.api, alongside):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.startswith("alongside.api.") or ".entrypoints." in info.name:
                importlib.import_module(info.name)


def all_services() -> list[ServiceDescriptor]:
    """Every service any generated module declares."""
    import_everything()
    found: dict[str, ServiceDescriptor] = {}
    for info in pkgutil.walk_packages(alongside.api.__path__, "alongside.api."):
        module = importlib.import_module(info.name)
        file = getattr(module, "DESCRIPTOR", None)
        for service in getattr(file, "services_by_name", {}).values():
            found[service.full_name] = service
    return list(found.values())


def policy_roles() -> dict[str, frozenset[str]]:
    """Full method name -> roles, from every policy table the services' entrypoints define."""
    import_everything()
    rules: dict[str, frozenset[str]] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("alongside.") and ".entrypoints." in name:
            for value in vars(module).values():
                if isinstance(value, Policy):
                    rules.update(value.rules)
    return rules


def _rank(role: str) -> int:
    """A role's place in ``ROLE_ORDER`` (``service:*`` by prefix)."""
    for i, wanted in enumerate(ROLE_ORDER):
        if role == wanted or (wanted.endswith(":") and role.startswith(wanted)):
            return i
    return len(ROLE_ORDER)


async def served(port: int) -> list[ServiceDescriptor]:
    """The services the server at ``port`` says it serves (reflection)."""
    async with aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        stub = reflection_pb2_grpc.ServerReflectionStub(chan)

        async def ask() -> Any:
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        async for reply in stub.ServerReflectionInfo(ask()):
            names = [s.name for s in reply.list_services_response.service]
            break
    pool = descriptor_pool.Default()
    return [pool.FindServiceByName(n) for n in names if not n.startswith(NOT_SERVICES)]


@dataclass
class Target:
    """One running service under fuzz."""

    name: str
    runtime: Runtime
    namespace: str
    admin: aioredis.Redis
    js: JetStreamContext
    methods: list[MethodDescriptor] = field(default_factory=list)
    channels: dict[str, aio.Channel] = field(default_factory=dict)
    # RPC full name -> the roles its policy allows, most privileged first.
    roles: dict[str, list[str]] = field(default_factory=dict)
    # (rpc, status) -> calls, printed with ``-s`` to see what the examples reached.
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Batches an accepted StartBatchMatch left solving in the background: their
    # keys (progress, result) change on their own, whatever call is under check.
    background: set[bytes] = field(default_factory=set)

    async def open(self) -> None:
        rules = policy_roles()
        for service in await served(self.runtime.port):
            for method in service.methods:
                path = f"/{service.full_name}/{method.name}"
                assert path in rules, f"{path} has no policy rule: the server would refuse every call"
                self.methods.append(method)
                self.roles[method.full_name] = sorted(rules[path], key=_rank)
                for role in rules[path]:
                    if role not in self.channels:
                        subject = SUBJECT if role == "peer" else f"fuzz-{role.replace(':', '-')}"
                        self.channels[role] = channel(f"127.0.0.1:{self.runtime.port}", role=role, subject=subject)

    async def close(self) -> None:
        print(f"\n{self.name}: " + ", ".join(f"{m}={c}:{n}" for (m, c), n in sorted(self.seen.items())))
        for chan in self.channels.values():
            await chan.close()

    async def call(self, method: MethodDescriptor, request: Message, role: str = "") -> tuple[grpc.StatusCode, str]:
        """Send ``request`` as ``role`` (by default the first the policy allows,
        in ``ROLE_ORDER``); the status and details it ends with (a stream is
        cancelled once it is open)."""
        code, details = await self._call(method, request, role or self.roles[method.full_name][0])
        self.seen[method.name, code.name] += 1
        if details and os.environ.get("ALONGSIDE_FUZZ_DETAILS"):
            self.seen[method.name, f"{code.name}({details[:90]})"] += 1
        return code, details

    async def _call(self, method: MethodDescriptor, request: Message, role: str) -> tuple[grpc.StatusCode, str]:
        chan = self.channels[role]
        reply = GetMessageClass(method.output_type)
        kwargs: dict[str, Any] = {
            "request_serializer": type(request).SerializeToString,
            "response_deserializer": reply.FromString,
        }
        try:
            if method.server_streaming:
                stream = chan.unary_stream(_path(method), **kwargs)(request, timeout=10)
                await stream.initial_metadata()
                # A refusal's status can land just after the (empty) initial
                # metadata: read once, briefly, before calling the stream open.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.read(), STREAM_SETTLE_S)
                if stream.done():
                    return await stream.code(), await stream.details() or ""
                stream.cancel()
                return grpc.StatusCode.OK, ""
            answer = await chan.unary_unary(_path(method), **kwargs)(request, timeout=10)
            remember_ids(answer)
            if method.name == "StartBatchMatch":
                self.background.add(f":batch:{answer.batch_id}".encode())  # type: ignore[attr-defined]
            return grpc.StatusCode.OK, ""
        except aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""

    async def drained(self) -> None:
        deps = self.runtime.deps
        assert deps is not None

        async def empty() -> bool:
            return not [k async for k in deps.redis.scan_iter(match=deps.keys.pattern("outbox"))]

        await eventually(empty, what="outbox drained")

    async def snapshot(self) -> Snapshot:
        """Every key of the namespace with its value, and each non-audit stream's count."""
        await self.drained()
        keys = sorted([k async for k in self.admin.scan_iter(match=f"{self.namespace}:*", count=1000)])
        keys = [k for k in keys if b":audit" not in k and not self._in_background(k)]
        async with self.admin.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.dump(key)
            values = await pipe.execute()
        streams = {}
        for spec in CATALOGUE:
            if spec.name != "AUDIT":
                name = stream_name(self.namespace, spec)
                streams[name] = (await self.js.stream_info(name)).state.messages
        return dict(zip(keys, values, strict=True)), streams

    def _in_background(self, key: bytes) -> bool:
        """A key of a batch that solves in the background (``batch:<id>`` and its ``:progress``)."""
        return any(key.endswith(mark) or mark + b":" in key for mark in self.background)

    async def settled(self) -> Snapshot:
        """A snapshot that background work (rematching, relays) has stopped changing."""
        last = await self.snapshot()
        for _ in range(50):
            await asyncio.sleep(0.02)
            now = await self.snapshot()
            if now == last:
                return now
            last = now
        raise AssertionError(f"{self.name}: the keyspace never settled")


def remember_ids(message: Message) -> None:
    """Put the ids an answer names into the strategies' pool, by field name."""
    for fd, value in message.ListFields():
        if fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
            for item in value if fd.is_repeated else [value]:
                remember_ids(item)
        elif fd.type == fd.TYPE_STRING and fd.name.endswith(("_id", "_ids", "_ref")):
            known = POOL.setdefault(fd.name.removesuffix("s") if fd.name.endswith("_ids") else fd.name, [])
            for item in value if fd.is_repeated else [value]:
                if item and item not in known:
                    known.append(item)
            del known[:-50]


def strings(message: Message) -> Iterator[str]:
    """Every string value in ``message``, nested ones and map keys included."""
    for fd, value in message.ListFields():
        items = list(value.items()) if isinstance(value, Mapping) else value if fd.is_repeated else [value]
        for item in items:
            for part in item if isinstance(item, tuple) else (item,):
                if isinstance(part, str):
                    yield part
                elif isinstance(part, Message):
                    yield from strings(part)


def non_finite(message: Message) -> bool:
    """Whether a double or float anywhere in ``message`` is NaN or infinite."""
    for fd, value in message.ListFields():
        items = value if fd.is_repeated and not isinstance(value, Mapping) else [value]
        for item in items:
            if isinstance(item, float) and not math.isfinite(item):
                return True
            if isinstance(item, Message) and non_finite(item):
                return True
    return False


def _path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def difference(before: Snapshot, after: Snapshot) -> str:
    keys = sorted(set(before[0]) ^ set(after[0]) | {k for k in before[0] if after[0].get(k, b"") != before[0][k]})
    streams = {n: (before[1][n], after[1][n]) for n in before[1] if before[1][n] != after[1][n]}
    return f"keys changed: {[k.decode(errors='replace') for k in keys][:10]}; streams changed: {streams}"
