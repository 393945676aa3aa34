"""Who may call each scheduler RPC. Object-level rules (a peer sees and
changes only their own calendar and sessions) live in the handlers."""

from __future__ import annotations

from alongside.api.scheduler.v1 import scheduler_pb2
from alongside.kit.auth.policy import Policy

STAFF = {"intake", "manager", "admin"}
MANAGERS = {"manager", "admin"}

TABLE: dict[str, set[str]] = {
    "AddTimeOff": MANAGERS | {"peer"},
    "RemoveTimeOff": MANAGERS | {"peer"},
    "FindSlots": STAFF | {"peer"},
    # The notifier only informs; it never books.
    "BookSession": STAFF,
    "RescheduleSession": STAFF | {"peer"},
    "CancelSession": STAFF | {"peer"},
    "MarkAttended": MANAGERS | {"peer"},
    "MarkNoShow": MANAGERS | {"peer"},
    "GetSession": STAFF | {"peer", "service:notifier"},
    "ListSessions": STAFF | {"peer"},
    "GetCalendarFeed": MANAGERS | {"peer"},
    "PlanWeek": MANAGERS,
    # Aggregates only (docs/dashboard.md), but over participant data: audited.
    "GetSessionStats": MANAGERS,
    # Group sessions: a peer hosts (and cancels) their own; intake staff enrol.
    "CreateGroupSession": MANAGERS | {"peer"},
    "GetGroupSession": STAFF | {"peer"},
    "ListGroupSessions": STAFF | {"peer"},
    "CancelGroupSession": MANAGERS | {"peer"},
    "EnrolParticipant": STAFF,
    "WithdrawParticipant": STAFF,
    "RecordGroupAttendance": STAFF | {"peer"},
    "ListGroupEnrolments": STAFF | {"peer"},
}

SERVICE = scheduler_pb2.DESCRIPTOR.services_by_name["SchedulerService"]
POLICY = Policy.for_service(SERVICE.full_name, [m.name for m in SERVICE.methods], TABLE)

# Calls that read or write participant data: each leaves an audit record.
AUDITED = POLICY.methods(
    (
        "FindSlots",
        "BookSession",
        "RescheduleSession",
        "CancelSession",
        "MarkAttended",
        "MarkNoShow",
        "GetSession",
        "ListSessions",
        "GetCalendarFeed",
        "PlanWeek",
        "GetSessionStats",
        # Rosters and attendance name participants (by reference).
        "EnrolParticipant",
        "WithdrawParticipant",
        "RecordGroupAttendance",
        "ListGroupEnrolments",
    )
)
