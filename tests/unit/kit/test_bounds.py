"""The request walker: defaults for every field, overrides by full name,
errors that name the field's path and never the value."""

from __future__ import annotations

import pytest

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.kit.bounds import Bounds, Limit
from alongside.kit.errors import InvalidArgument
from alongside.kit.replies import ReplyBudget

SMALL = Bounds(
    max_chars=10,
    max_bytes=8,
    max_items=3,
    fields={
        "alongside.matcher.v1.Peer.display_name": Limit(size=5),
        "alongside.matcher.v1.Peer.languages": Limit(items=4),
    },
)


def refused(message: object, bounds: Bounds = SMALL) -> str:
    with pytest.raises(InvalidArgument) as info:
        bounds.check(message)  # type: ignore[arg-type]
    return info.value.message


def test_within_bounds_passes() -> None:
    SMALL.check(mpb.UpsertPeerRequest(idempotency_key="k", peer=mpb.Peer(display_name="Ana", languages=["en"] * 4)))
    SMALL.check(mpb.ImportRosterRequest(csv=b"12345678"))


def test_override_names_the_nested_field() -> None:
    message = refused(mpb.UpsertPeerRequest(peer=mpb.Peer(display_name="Secret Name")))
    assert message == "peer.display_name: at most 5 characters"


def test_default_string_bound_applies_to_fields_nobody_listed() -> None:
    assert refused(mpb.GetPeerRequest(peer_id="x" * 11)) == "peer_id: at most 10 characters"


def test_repeated_counts_and_elements() -> None:
    assert refused(mpb.UpsertPeerRequest(peer=mpb.Peer(languages=["en"] * 5))) == "peer.languages: at most 4 entries"
    assert refused(mpb.UpsertPeerRequest(peer=mpb.Peer(cultures=["a", "b", "c" * 11]))) == (
        "peer.cultures[2]: at most 10 characters"
    )
    assert (
        refused(mpb.UpsertPeerRequest(peer=mpb.Peer(types=[mpb.PEER_TYPE_RECOVERY_COACH] * 4)))
        == "peer.types: at most 3 entries"
    )


def test_repeated_messages_are_walked() -> None:
    prefs = npb.ContactPreferences(
        channel_kinds=[
            npb.ChannelKinds(kinds=[npb.KIND_MATCH_CLOSED]),
            npb.ChannelKinds(kinds=[npb.KIND_MATCH_CLOSED] * 4),
        ]
    )
    message = refused(npb.SetContactPreferencesRequest(preferences=prefs))
    assert message == "preferences.channel_kinds[1].kinds: at most 3 entries"


def test_bytes_are_counted_in_bytes() -> None:
    assert refused(mpb.ImportRosterRequest(csv=b"123456789")) == "csv: at most 8 bytes"


def test_characters_not_utf8_bytes() -> None:
    SMALL.check(mpb.UpsertPeerRequest(peer=mpb.Peer(display_name="🙂🙂🙂🙂🙂")))


def test_rows_cover_every_string_and_repeated_field() -> None:
    rows = dict(SMALL.rows([mpb.DESCRIPTOR.services_by_name["MatcherService"]]))
    assert rows["Peer.display_name"] == "5 characters"
    assert rows["Peer.languages"] == "4 entries, 10 characters each"
    assert rows["Peer.types"] == "3 entries"
    assert rows["ImportRosterRequest.csv"] == "8 bytes"
    assert "WeeklyWindow.day" not in rows and "Peer.capacity" not in rows


def test_reply_budget_always_takes_the_first_item_then_stops_at_the_limit() -> None:
    budget = ReplyBudget(limit=100)
    big = mpb.Peer(display_name="x" * 200)
    assert budget.take(big)
    assert not budget.take(mpb.Peer(peer_id="p"))
    small = ReplyBudget(limit=100)
    assert small.take(mpb.Peer(peer_id="a")) and small.take(mpb.Peer(peer_id="b"))
    assert not small.take(big)
