"""The interceptor maps every foreseeable error to its status code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest

from alongside.api.notifier.v1 import notifier_pb2, notifier_pb2_grpc
from alongside.kit import errors
from alongside.kit.grpc.server import create_server

CANARY = "canary-person@example.org"


class Raising(notifier_pb2_grpc.NotifierServiceServicer):
    async def GetContactPreferences(self, request, context):  # type: ignore[no-untyped-def]
        kind = request.peer_id
        if kind == "invalid":
            raise errors.InvalidArgument("preferences.email", "is not an email address")
        if kind == "missing":
            raise errors.NotFound("peer not found")
        if kind == "exists":
            raise errors.AlreadyExists("already there")
        if kind == "state":
            raise errors.FailedPrecondition("peer is full")
        if kind == "race":
            raise errors.Aborted("lost a race")
        if kind == "down":
            raise ConnectionError("redis gone")
        if kind == "bug":
            raise KeyError(CANARY)
        return notifier_pb2.GetContactPreferencesResponse()


@pytest.fixture
async def stub() -> AsyncIterator[notifier_pb2_grpc.NotifierServiceStub]:
    server, port = create_server("127.0.0.1:0")
    notifier_pb2_grpc.add_NotifierServiceServicer_to_server(Raising(), server)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield notifier_pb2_grpc.NotifierServiceStub(channel)
    await server.stop(0)


@pytest.mark.parametrize(
    ("kind", "code", "detail"),
    [
        ("invalid", grpc.StatusCode.INVALID_ARGUMENT, "preferences.email: is not an email address"),
        ("missing", grpc.StatusCode.NOT_FOUND, "peer not found"),
        ("exists", grpc.StatusCode.ALREADY_EXISTS, "already there"),
        ("state", grpc.StatusCode.FAILED_PRECONDITION, "peer is full"),
        ("race", grpc.StatusCode.ABORTED, "lost a race"),
        ("down", grpc.StatusCode.UNAVAILABLE, "a dependency is unavailable; retry"),
        ("bug", grpc.StatusCode.INTERNAL, "internal error"),
    ],
)
async def test_error_table(
    stub: notifier_pb2_grpc.NotifierServiceStub, kind: str, code: grpc.StatusCode, detail: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetContactPreferences(notifier_pb2.GetContactPreferencesRequest(peer_id=kind))
    assert info.value.code() == code
    assert info.value.details() == detail
    assert CANARY not in (info.value.details() or "")


async def test_unimplemented_rpc_says_so(stub: notifier_pb2_grpc.NotifierServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ListNotifications(notifier_pb2.ListNotificationsRequest(peer_id="p"))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.serial  # stopped within 2 s
async def test_a_handler_past_the_servers_deadline_is_stopped_with_deadline_exceeded() -> None:
    """A call without a deadline of its own still gets the server's default one."""
    stopped = asyncio.Event()

    class Hanging(notifier_pb2_grpc.NotifierServiceServicer):
        async def GetContactPreferences(self, request, context):  # type: ignore[no-untyped-def]
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                stopped.set()
                raise
            return notifier_pb2.GetContactPreferencesResponse()

    server, port = create_server("127.0.0.1:0", default_deadline_s=0.2)
    notifier_pb2_grpc.add_NotifierServiceServicer_to_server(Hanging(), server)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = notifier_pb2_grpc.NotifierServiceStub(channel)
            began = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.GetContactPreferences(notifier_pb2.GetContactPreferencesRequest(peer_id="p"))
            assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert info.value.details() == "the deadline passed before the work finished"
            assert time.monotonic() - began < 2.0
            assert stopped.is_set()
    finally:
        await server.stop(0)
