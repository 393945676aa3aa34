"""Authentication and authorisation across all three services: the whole
role x RPC matrix, bad tokens, and a peer reaching for another peer's data."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import grpc
import jwt
import pytest
from google.protobuf.message import Message

from alongside.api.matcher.v1 import matcher_pb2, matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2, notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from alongside.kit.auth.client import bearer_channel
from alongside.kit.auth.tokens import Minter
from alongside.kit.testing.auth import TEST_SECRET, token
from alongside.matcher.entrypoints.policy import TABLE as MATCHER_TABLE
from alongside.notifier.entrypoints.policy import TABLE as NOTIFIER_TABLE
from alongside.scheduler.entrypoints.policy import TABLE as SCHEDULER_TABLE

ROLES = ("intake", "manager", "peer", "admin", "service:matcher", "service:scheduler", "service:notifier")
PEER = "p-self"
SERVICES: dict[str, tuple[Any, Any, dict[str, set[str]]]] = {
    "matcher": (matcher_pb2, matcher_pb2_grpc.MatcherServiceStub, MATCHER_TABLE),
    "scheduler": (scheduler_pb2, scheduler_pb2_grpc.SchedulerServiceStub, SCHEDULER_TABLE),
    "notifier": (notifier_pb2, notifier_pb2_grpc.NotifierServiceStub, NOTIFIER_TABLE),
}
NOT_ALLOWED = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED}


def request_for(module: Any, rpc: str, subject: str) -> Message:
    """An (almost) empty request, aimed at the caller's own objects where a field names a peer."""
    method = module.DESCRIPTOR.services_by_name[next(iter(module.DESCRIPTOR.services_by_name))].methods_by_name[rpc]
    message = getattr(module, method.input_type.name)()
    fields = message.DESCRIPTOR.fields_by_name
    if "idempotency_key" in fields:
        message.idempotency_key = "k-" + rpc
    for name in ("peer_id", "host_peer_id"):  # a peer hosting a group names themself as host
        if name in fields:
            setattr(message, name, subject)
    if "session_id" in fields:
        message.session_id = f"{subject}~none"
    if "preferences" in fields and rpc == "SetContactPreferences":
        message.preferences.peer_id = subject
    return message


async def call(port: int, stub_type: Any, rpc: str, request: Message, bearer: str | None) -> grpc.StatusCode:
    target = f"127.0.0.1:{port}"
    channel = bearer_channel(target, bearer) if bearer is not None else grpc.aio.insecure_channel(target)
    async with channel:
        method = getattr(stub_type(channel), rpc)
        try:
            result = method(request, timeout=5)
            if rpc.startswith("Watch"):
                await asyncio.wait_for(result.read(), 0.5)
            else:
                await result
        except TimeoutError:
            return grpc.StatusCode.OK  # the watch was accepted and is waiting for items
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


async def test_the_whole_role_by_rpc_matrix(ports: dict[str, int]) -> None:
    wrong: list[str] = []
    for service, (module, stub_type, table) in SERVICES.items():
        for rpc, allowed in table.items():
            for role in ROLES:
                subject = PEER if role == "peer" else role
                code = await call(
                    ports[service], stub_type, rpc, request_for(module, rpc, subject), token(role, subject)
                )
                if (role in allowed) == (code in NOT_ALLOWED):
                    wrong.append(f"{service}.{rpc} as {role}: {code.name}")
    assert not wrong, "\n".join(wrong)


async def test_every_rpc_needs_a_token(ports: dict[str, int]) -> None:
    for service, (module, stub_type, table) in SERVICES.items():
        for rpc in table:
            code = await call(ports[service], stub_type, rpc, request_for(module, rpc, PEER), None)
            assert code == grpc.StatusCode.UNAUTHENTICATED, f"{service}.{rpc}"


def _unsigned(claims: dict[str, Any]) -> str:
    def part(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def bad_tokens() -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": "alongside", "aud": "alongside", "sub": "x", "role": "admin"}
    return {
        "expired": jwt.encode({**claims, "exp": now - 600}, TEST_SECRET, "HS256"),
        "badly signed": Minter("x" * 40, "HS256", "alongside", "alongside").mint("x", "admin"),
        "alg none": _unsigned({**claims, "exp": now + 600}),
        "wrong audience": Minter(TEST_SECRET, "HS256", "alongside", "another-system").mint("x", "admin"),
        "garbage": "not-a-token",
    }


@pytest.mark.parametrize("kind", list(bad_tokens()))
async def test_bad_tokens_are_refused_without_data(ports: dict[str, int], kind: str) -> None:
    bearer = bad_tokens()[kind]
    code = await call(
        ports["matcher"], matcher_pb2_grpc.MatcherServiceStub, "ListPeers", matcher_pb2.ListPeersRequest(), bearer
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("service", "rpc", "request_"),
    [
        ("notifier", "ListNotifications", notifier_pb2.ListNotificationsRequest(peer_id="p-other")),
        ("notifier", "GetContactPreferences", notifier_pb2.GetContactPreferencesRequest(peer_id="p-other")),
        ("notifier", "WatchNotifications", notifier_pb2.WatchNotificationsRequest(peer_id="p-other")),
        ("scheduler", "ListSessions", scheduler_pb2.ListSessionsRequest(peer_id="p-other")),
        ("scheduler", "ListSessions", scheduler_pb2.ListSessionsRequest()),
        ("scheduler", "GetSession", scheduler_pb2.GetSessionRequest(session_id="p-other~s1")),
        ("scheduler", "GetCalendarFeed", scheduler_pb2.GetCalendarFeedRequest(peer_id="p-other")),
        (
            "scheduler",
            "CancelSession",
            scheduler_pb2.CancelSessionRequest(idempotency_key="k", session_id="p-other~s1"),
        ),
        ("matcher", "GetPeer", matcher_pb2.GetPeerRequest(peer_id="p-other")),
    ],
)
async def test_a_peer_cannot_reach_another_peers_objects(
    ports: dict[str, int], service: str, rpc: str, request_: Message
) -> None:
    _, stub_type, _ = SERVICES[service]
    code = await call(ports[service], stub_type, rpc, request_, token("peer", PEER))
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_only_staff_may_override_the_notice_window(ports: dict[str, int]) -> None:
    request = scheduler_pb2.CancelSessionRequest(idempotency_key="k", session_id=f"{PEER}~s1", override_notice=True)
    code = await call(
        ports["scheduler"], scheduler_pb2_grpc.SchedulerServiceStub, "CancelSession", request, token("peer", PEER)
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
