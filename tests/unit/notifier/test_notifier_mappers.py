"""Protobuf <-> domain for the API, and incoming events to triggers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest

from alongside.api.matcher.v1 import events_pb2 as match_events
from alongside.api.matcher.v1 import matcher_pb2
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.api.scheduler.v1 import events_pb2 as session_events
from alongside.kit.errors import InvalidArgument
from alongside.kit.events.consumer import Permanent
from alongside.kit.events.envelope import Event
from alongside.notifier.domain.model import Kind
from alongside.notifier.domain.preferences import validate_preferences
from alongside.notifier.entrypoints.events import to_trigger
from alongside.notifier.entrypoints.mappers import api_error, draft_from_proto, prefs_to_proto


def test_proto_preferences_map_to_the_domain_and_back() -> None:
    msg = pb.ContactPreferences(
        peer_id="p-1",
        language="es",
        time_zone="Asia/Tokyo",
        channels=[pb.CHANNEL_INBOX, pb.CHANNEL_EMAIL],
        email="p@example.org",
        kinds=[pb.KIND_SESSION_BOOKED],
        quiet_hours=pb.QuietHours(start_minute=1350, end_minute=420),
    )
    draft = draft_from_proto(msg)
    assert (draft.quiet_start, draft.quiet_end) == ("22:30", "07:00")
    assert draft.channels == ["inbox", "email"]
    assert prefs_to_proto(validate_preferences(draft)) == msg


def test_empty_lists_mean_the_defaults() -> None:
    draft = draft_from_proto(pb.ContactPreferences(peer_id="p-1"))
    assert (draft.channels, draft.kinds, draft.channel_kinds, draft.quiet_start) == (None, None, None, None)


def test_unknown_enum_numbers_reach_the_domain_as_unknown() -> None:
    draft = draft_from_proto(pb.ContactPreferences(peer_id="p-1", kinds=[pb.KIND_UNSPECIFIED, cast(pb.Kind, 99)]))
    assert draft.kinds == ["unspecified", ""]


@pytest.mark.parametrize(
    ("domain_field", "api_field"),
    [
        ("timezone", "preferences.time_zone"),
        ("quiet_hours.end", "preferences.quiet_hours.end_minute"),
        ("kinds[2]", "preferences.kinds[2]"),
        ("idempotency_key", "idempotency_key"),
    ],
)
def test_domain_fields_are_reported_with_api_names(domain_field: str, api_field: str) -> None:
    renamed = api_error(InvalidArgument(domain_field, "breaks a rule"))
    assert (renamed.field, renamed.message) == (api_field, f"{api_field}: breaks a rule")


def test_an_out_of_range_quiet_minute_names_its_field() -> None:
    with pytest.raises(InvalidArgument) as info:
        draft_from_proto(pb.ContactPreferences(peer_id="p", quiet_hours=pb.QuietHours(start_minute=5, end_minute=-1)))
    assert info.value.field == "preferences.quiet_hours.end_minute"


def test_an_accepted_match_becomes_a_trigger_with_ids_only() -> None:
    body = match_events.MatchAccepted(
        match_id="m-1", peer_id="p-1", participant_ref="secret ref", urgency=matcher_pb2.URGENCY_URGENT
    )
    trigger = to_trigger(Event.of("match.accepted", "/alongside/matcher", body))
    assert trigger is not None
    assert (trigger.kind, trigger.peer_id, trigger.match_id, trigger.flagged_urgent) == (
        Kind.ASSIGNMENT_NEW,
        "p-1",
        "m-1",
        True,
    )


def test_a_reschedule_carries_both_starts() -> None:
    new, old = datetime(2031, 1, 2, 10, tzinfo=UTC), datetime(2031, 1, 1, 10, tzinfo=UTC)
    body = session_events.SessionRescheduled(session_id="s-1", peer_id="p-1")
    body.start.FromDatetime(new)
    body.previous_start.FromDatetime(old)
    trigger = to_trigger(Event.of("session.rescheduled", "/alongside/scheduler", body))
    assert trigger is not None and (trigger.start, trigger.previous_start) == (new, old)


def test_a_group_reminder_goes_to_its_facilitator_timed_with_no_link() -> None:
    start = datetime(2031, 1, 2, 23, tzinfo=UTC)
    body = session_events.GroupReminderDue(
        reminder_id="~grp:h~g1.2:60m:0", group_id="h~g1", occurrence_index=2, peer_id="co-1", offset_minutes=60
    )
    body.start.FromDatetime(start)
    trigger = to_trigger(Event.of("session.group.reminder_due", "/alongside/scheduler", body))
    assert trigger is not None
    assert (trigger.kind, trigger.peer_id, trigger.start) == (Kind.GROUP_REMINDER, "co-1", start)
    assert (trigger.session_id, trigger.match_id) == (None, None)


def test_an_id_that_is_not_an_id_is_dropped_from_the_links() -> None:
    body = session_events.SessionBooked(session_id="not an id", peer_id="p-1", match_id="m-1")
    trigger = to_trigger(Event.of("session.booked", "/alongside/scheduler", body))
    assert trigger is not None and (trigger.session_id, trigger.match_id) == (None, "m-1")


def test_other_events_are_not_for_peers() -> None:
    body = match_events.MatchDeclined(request_id="r-1", peer_id="p-1")
    assert to_trigger(Event.of("match.declined", "/alongside/matcher", body)) is None


@pytest.mark.parametrize("peer_id", ["", "has space"])
def test_an_event_without_a_usable_peer_is_permanent(peer_id: str) -> None:
    body = match_events.MatchClosed(match_id="m-1", peer_id=peer_id)
    with pytest.raises(Permanent):
        to_trigger(Event.of("match.closed", "/alongside/matcher", body))


def test_a_body_that_does_not_parse_is_permanent() -> None:
    event = Event("match.accepted", "/alongside/matcher", b"\xff\xff\xff", "x")
    with pytest.raises(Permanent):
        to_trigger(event)
