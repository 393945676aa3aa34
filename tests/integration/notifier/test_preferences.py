"""Set and Get contact preferences through gRPC; bad input names the field
and stores nothing."""

from __future__ import annotations

from typing import Any, cast

import grpc
import pytest

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.ids import new_id

from .conftest import Start
from .harness import EMAIL, INBOX, WEBHOOK


async def test_preferences_round_trip(start_notifier: Start) -> None:
    notifier = await start_notifier()
    peer = new_id("p")
    wanted = pb.ContactPreferences(
        peer_id=peer,
        language="es",
        time_zone="America/Mexico_City",
        channels=[INBOX, EMAIL, WEBHOOK],
        email="peer@example.org",
        webhook_url="https://sms.example.org/hook",
        kinds=[pb.KIND_ASSIGNMENT_NEW, pb.KIND_SESSION_REMINDER],
        quiet_hours=pb.QuietHours(start_minute=22 * 60, end_minute=7 * 60 + 30),
        channel_kinds=[pb.ChannelKinds(channel=WEBHOOK, kinds=[pb.KIND_SESSION_REMINDER])],
    )
    reply = await notifier.stub.SetContactPreferences(
        pb.SetContactPreferencesRequest(idempotency_key="k1", preferences=wanted)
    )
    assert reply.preferences == wanted
    got = await notifier.stub.GetContactPreferences(pb.GetContactPreferencesRequest(peer_id=peer))
    assert got.preferences == wanted


async def test_a_peer_without_preferences_gets_the_inbox_only(start_notifier: Start) -> None:
    notifier = await start_notifier()
    got = (await notifier.stub.GetContactPreferences(pb.GetContactPreferencesRequest(peer_id="p-new"))).preferences
    assert list(got.channels) == [INBOX]
    assert len(got.kinds) == len(pb.Kind.values()) - 1 and got.language == "en" and got.time_zone == "UTC"
    assert not got.HasField("quiet_hours")


BAD = "bad-value-that-must-not-echo"
UNKNOWN = cast(pb.Kind, 99)  # a number no Kind has: a newer client, or a broken one


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": BAD, "channels": [EMAIL]}, "preferences.email"),
        ({"channels": [EMAIL]}, "preferences.email"),
        ({"time_zone": "Mars/" + BAD.replace("-", "_")}, "preferences.time_zone"),
        ({"webhook_url": f"http://{BAD}.example.org/hook"}, "preferences.webhook_url"),
        ({"webhook_url": f"ftp://{BAD}.example.org/hook"}, "preferences.webhook_url"),
        ({"kinds": [UNKNOWN]}, "preferences.kinds[0]"),
        ({"kinds": [pb.KIND_SESSION_BOOKED, pb.KIND_UNSPECIFIED]}, "preferences.kinds[1]"),
        ({"channels": [INBOX, 42]}, "preferences.channels[1]"),
        ({"language": BAD + "!"}, "preferences.language"),
        ({"quiet_hours": pb.QuietHours(start_minute=1440, end_minute=60)}, "preferences.quiet_hours.start_minute"),
        ({"quiet_hours": pb.QuietHours(start_minute=60, end_minute=60)}, "preferences.quiet_hours.end_minute"),
        ({"channel_kinds": [pb.ChannelKinds(channel=EMAIL, kinds=[UNKNOWN])]}, "preferences.channel_kinds.email[0]"),
        ({"peer_id": "has spaces " + BAD}, "preferences.peer_id"),
    ],
)
async def test_invalid_preferences_name_the_field_and_store_nothing(
    start_notifier: Start, fields: dict[str, Any], field: str
) -> None:
    notifier = await start_notifier()
    peer = fields.pop("peer_id", new_id("p"))
    request = pb.SetContactPreferencesRequest(
        idempotency_key="k", preferences=pb.ContactPreferences(peer_id=peer, **fields)
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await notifier.stub.SetContactPreferences(request)
    details = info.value.details() or ""
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(field + ":")
    assert BAD not in details
    assert [k async for k in notifier.redis.scan_iter(match=f"{notifier.namespace}:*")] == []


async def test_a_webhook_needs_the_server_to_have_a_secret(start_notifier: Start) -> None:
    notifier = await start_notifier(webhook_secret="")
    prefs = pb.ContactPreferences(peer_id="p-1", channels=[WEBHOOK], webhook_url="https://sms.example.org/h")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await notifier.stub.SetContactPreferences(
            pb.SetContactPreferencesRequest(idempotency_key="k", preferences=prefs)
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_an_idempotency_key_replays_and_cannot_be_reused(start_notifier: Start) -> None:
    notifier = await start_notifier()
    first = pb.SetContactPreferencesRequest(
        idempotency_key="same", preferences=pb.ContactPreferences(peer_id="p-1", language="es")
    )
    await notifier.stub.SetContactPreferences(first)
    await notifier.set_prefs("p-1", language="en")
    replay = await notifier.stub.SetContactPreferences(first)
    assert replay.preferences.language == "es"  # the first answer, and nothing written again
    got = await notifier.stub.GetContactPreferences(pb.GetContactPreferencesRequest(peer_id="p-1"))
    assert got.preferences.language == "en"
    other = pb.SetContactPreferencesRequest(
        idempotency_key="same", preferences=pb.ContactPreferences(peer_id="p-1", language="fr")
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await notifier.stub.SetContactPreferences(other)
    assert (info.value.details() or "").startswith("idempotency_key")
