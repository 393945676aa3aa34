"""One id rule in every service: a malformed id in any RPC is INVALID_ARGUMENT
naming the field (the value never echoed); a well-formed id that names
nothing stays NOT_FOUND."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from alongside.api.matcher.v1 import matcher_pb2 as m
from alongside.api.notifier.v1 import notifier_pb2 as n
from alongside.api.scheduler.v1 import scheduler_pb2 as s

from .calls import answer

K = "k-ids"
# What each service let through before: '@' (scheduler), 65-128 characters
# (notifier); and what every service must refuse.
MALFORMED = ["p@example.org", "x" * 65, "has space", "-flag", "ünï"]


def ts(days: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(UTC) + timedelta(days=days))
    return stamp


Build = Callable[[str], Message]
# (service, rpc, field named in the answer, request with the id in that field)
CASES: list[tuple[str, str, str, Build]] = [
    ("matcher", "GetPeer", "peer_id", lambda v: m.GetPeerRequest(peer_id=v)),
    (
        "matcher",
        "SetPeerStatus",
        "peer_id",
        lambda v: m.SetPeerStatusRequest(idempotency_key=K, peer_id=v, status=m.PEER_STATUS_ACTIVE),
    ),
    ("matcher", "GetIntake", "request_id", lambda v: m.GetIntakeRequest(request_id=v)),
    (
        "matcher",
        "AcceptMatch",
        "request_id",
        lambda v: m.AcceptMatchRequest(idempotency_key=K, request_id=v, peer_id="p-1"),
    ),
    (
        "matcher",
        "AcceptMatch",
        "peer_id",
        lambda v: m.AcceptMatchRequest(idempotency_key=K, request_id="r-1", peer_id=v),
    ),
    (
        "matcher",
        "DeclineMatch",
        "request_id",
        lambda v: m.DeclineMatchRequest(idempotency_key=K, request_id=v, peer_id="p-1"),
    ),
    (
        "matcher",
        "DeclineMatch",
        "peer_id",
        lambda v: m.DeclineMatchRequest(idempotency_key=K, request_id="r-1", peer_id=v),
    ),
    (
        "matcher",
        "CloseMatch",
        "match_id",
        lambda v: m.CloseMatchRequest(idempotency_key=K, match_id=v, reason=m.CLOSE_REASON_COMPLETED),
    ),
    ("matcher", "GetMatch", "match_id", lambda v: m.GetMatchRequest(match_id=v)),
    ("matcher", "GetAssignment", "match_id", lambda v: m.GetAssignmentRequest(match_id=v)),
    ("matcher", "RevokeConsent", "request_id", lambda v: m.RevokeConsentRequest(idempotency_key=K, request_id=v)),
    ("matcher", "ConfirmBatch", "batch_id", lambda v: m.ConfirmBatchRequest(idempotency_key=K, batch_id=v)),
    (
        "matcher",
        "RunBatchMatch",
        "request_ids[0]",
        lambda v: m.RunBatchMatchRequest(idempotency_key=K, request_ids=[v]),
    ),
    (
        "scheduler",
        "AddTimeOff",
        "peer_id",
        lambda v: s.AddTimeOffRequest(idempotency_key=K, peer_id=v, start=ts(3), end=ts(4)),
    ),
    (
        "scheduler",
        "RemoveTimeOff",
        "peer_id",
        lambda v: s.RemoveTimeOffRequest(idempotency_key=K, peer_id=v, time_off_id="off1"),
    ),
    (
        "scheduler",
        "RemoveTimeOff",
        "time_off_id",
        lambda v: s.RemoveTimeOffRequest(idempotency_key=K, peer_id="p-1", time_off_id=v),
    ),
    ("scheduler", "FindSlots", "peer_id", lambda v: s.FindSlotsRequest(peer_id=v, duration_minutes=30)),
    (
        "scheduler",
        "BookSession",
        "peer_id",
        lambda v: s.BookSessionRequest(idempotency_key=K, peer_id=v, participant_ref="ref-1"),
    ),
    (
        "scheduler",
        "BookSession",
        "participant_ref",
        lambda v: s.BookSessionRequest(idempotency_key=K, peer_id="p-1", participant_ref=v),
    ),
    (
        "scheduler",
        "BookSession",
        "match_id",
        lambda v: s.BookSessionRequest(idempotency_key=K, peer_id="p-1", participant_ref="ref-1", match_id=v),
    ),
    ("scheduler", "GetSession", "session_id", lambda v: s.GetSessionRequest(session_id=f"p-1~{v}")),
    ("scheduler", "GetSession", "session_id", lambda v: s.GetSessionRequest(session_id=f"{v}~s1")),
    (
        "scheduler",
        "RescheduleSession",
        "session_id",
        lambda v: s.RescheduleSessionRequest(idempotency_key=K, session_id=f"{v}~s1", new_start=ts(5)),
    ),
    (
        "scheduler",
        "CancelSession",
        "session_id",
        lambda v: s.CancelSessionRequest(
            idempotency_key=K, session_id=f"p-1~{v}", reason=s.CANCEL_REASON_PEER_UNAVAILABLE
        ),
    ),
    (
        "scheduler",
        "MarkAttended",
        "session_id",
        lambda v: s.MarkAttendedRequest(idempotency_key=K, session_id=f"{v}~s1"),
    ),
    ("scheduler", "MarkNoShow", "session_id", lambda v: s.MarkNoShowRequest(idempotency_key=K, session_id=f"p-1~{v}")),
    ("scheduler", "ListSessions", "peer_id", lambda v: s.ListSessionsRequest(peer_id=v)),
    ("scheduler", "ListSessions", "participant_ref", lambda v: s.ListSessionsRequest(participant_ref=v)),
    ("scheduler", "GetCalendarFeed", "peer_id", lambda v: s.GetCalendarFeedRequest(peer_id=v)),
    (
        "scheduler",
        "PlanWeek",
        "items.peer_id",
        lambda v: s.PlanWeekRequest(
            idempotency_key=K,
            week_start=ts(7),
            items=[s.PlanItem(match_id="m-1", peer_id=v, participant_ref="ref-1")],
        ),
    ),
    ("notifier", "GetContactPreferences", "peer_id", lambda v: n.GetContactPreferencesRequest(peer_id=v)),
    (
        "notifier",
        "SetContactPreferences",
        "preferences.peer_id",
        lambda v: n.SetContactPreferencesRequest(
            idempotency_key=K, preferences=n.ContactPreferences(peer_id=v, language="en", time_zone="UTC")
        ),
    ),
    ("notifier", "ListNotifications", "peer_id", lambda v: n.ListNotificationsRequest(peer_id=v)),
    (
        "notifier",
        "Acknowledge",
        "peer_id",
        lambda v: n.AcknowledgeRequest(idempotency_key=K, peer_id=v, notification_ids=["n1"]),
    ),
    (
        "notifier",
        "Acknowledge",
        "notification_ids[0]",
        lambda v: n.AcknowledgeRequest(idempotency_key=K, peer_id="p-1", notification_ids=[v]),
    ),
    ("notifier", "WatchNotifications", "peer_id", lambda v: n.WatchNotificationsRequest(peer_id=v)),
    ("notifier", "WatchNotifications", "after_id", lambda v: n.WatchNotificationsRequest(peer_id="p-1", after_id=v)),
]


async def test_a_malformed_id_is_invalid_argument_naming_the_field(ports: dict[str, int]) -> None:
    wrong: list[str] = []
    for service, rpc, field, build in CASES:
        for value in MALFORMED:
            code, details = await answer(ports[service], service, rpc, build(value))
            if code != grpc.StatusCode.INVALID_ARGUMENT or not details.startswith(f"{field}:") or value in details:
                wrong.append(f"{service}.{rpc} {field}={value[:12]!r}: {code.name} {details[:80]!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("service", "rpc", "request_"),
    [
        ("matcher", "GetPeer", m.GetPeerRequest(peer_id="p-nobody")),
        ("matcher", "GetIntake", m.GetIntakeRequest(request_id="req-nothing")),
        ("matcher", "GetMatch", m.GetMatchRequest(match_id="m-nothing")),
        ("matcher", "GetAssignment", m.GetAssignmentRequest(match_id="m-nothing")),
        ("matcher", "RevokeConsent", m.RevokeConsentRequest(idempotency_key=K, request_id="req-nothing")),
        ("matcher", "ConfirmBatch", m.ConfirmBatchRequest(idempotency_key=K, batch_id="b-nothing")),
        (
            "matcher",
            "CloseMatch",
            m.CloseMatchRequest(idempotency_key=K, match_id="m-0", reason=m.CLOSE_REASON_COMPLETED),
        ),
        ("scheduler", "GetSession", s.GetSessionRequest(session_id="p-nobody~s1")),
        ("scheduler", "GetCalendarFeed", s.GetCalendarFeedRequest(peer_id="p-nobody")),
        ("notifier", "WatchNotifications", n.WatchNotificationsRequest(peer_id="p-1", after_id="nt-nothing")),
    ],
)
async def test_a_well_formed_unknown_id_stays_not_found(
    ports: dict[str, int], service: str, rpc: str, request_: Message
) -> None:
    code, _ = await answer(ports[service], service, rpc, request_)
    assert code == grpc.StatusCode.NOT_FOUND
