"""The size bound of every string and repeated field of the scheduler's
requests, checked before any handler runs.

Fields not listed take the kit's defaults (``alongside.kit.bounds.Bounds``:
256 characters, 64 KiB, 100 entries). ``docs/scheduler.md`` has the full
table; a test holds it to this one.
"""

from __future__ import annotations

from alongside.kit.bounds import Bounds, Limit

S = "alongside.scheduler.v1."
WINDOWS = Limit(items=42)  # six a day, as the matcher allows

BOUNDS = Bounds(
    fields={
        f"{S}FindSlotsRequest.participant_availability": WINDOWS,
        f"{S}BookSessionRequest.participant_availability": WINDOWS,
        f"{S}PlanItem.participant_availability": WINDOWS,
        f"{S}PlanWeekRequest.items": Limit(items=200),
        f"{S}BookSessionRequest.session_type": Limit(size=64),
        f"{S}FindSlotsRequest.session_type": Limit(size=64),
        # Group sessions: ids follow the kit's id rule (at most 64 characters).
        f"{S}CreateGroupSessionRequest.host_peer_id": Limit(size=64),
        f"{S}CreateGroupSessionRequest.co_facilitator_peer_id": Limit(size=64),
        f"{S}GetGroupSessionRequest.group_id": Limit(size=160),
        f"{S}ListGroupSessionsRequest.peer_id": Limit(size=64),
        f"{S}CancelGroupSessionRequest.group_id": Limit(size=160),
        f"{S}EnrolParticipantRequest.group_id": Limit(size=160),
        f"{S}EnrolParticipantRequest.participant_ref": Limit(size=64),
        f"{S}WithdrawParticipantRequest.group_id": Limit(size=160),
        f"{S}WithdrawParticipantRequest.participant_ref": Limit(size=64),
        f"{S}RecordGroupAttendanceRequest.group_id": Limit(size=160),
        f"{S}RecordGroupAttendanceRequest.participant_ref": Limit(size=64),
        f"{S}ListGroupEnrolmentsRequest.group_id": Limit(size=160),
    }
)
