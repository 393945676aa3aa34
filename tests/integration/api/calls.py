"""Calling any RPC of the three services by name, and what it answered."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from google.protobuf.message import Message

from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.testing.auth import channel

STUBS: dict[str, Any] = {
    "matcher": matcher_pb2_grpc.MatcherServiceStub,
    "scheduler": scheduler_pb2_grpc.SchedulerServiceStub,
    "notifier": notifier_pb2_grpc.NotifierServiceStub,
}


async def answer(port: int, service: str, rpc: str, request: Message) -> tuple[grpc.StatusCode, str]:
    """(code, details) of one call as an admin; a watch that waits counts as OK."""
    async with channel(f"127.0.0.1:{port}") as chan:
        call = getattr(STUBS[service](chan), rpc)(request, timeout=5)
        try:
            if rpc == "WatchNotifications":
                await asyncio.wait_for(call.read(), 0.5)
            else:
                await call
        except TimeoutError:
            return grpc.StatusCode.OK, ""
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""
