"""Who may call each matcher RPC. Object-level rules (a peer sees only their
own matches and assignments) live in the handlers."""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2
from alongside.kit.auth.policy import Policy

STAFF = {"intake", "manager", "admin"}
MANAGERS = {"manager", "admin"}

TABLE: dict[str, set[str]] = {
    # Intake staff use the roster but cannot change it.
    "UpsertPeer": MANAGERS,
    "SetPeerStatus": MANAGERS,
    "ImportRoster": MANAGERS,
    "GetPeer": STAFF | {"peer"},
    "ListPeers": STAFF,
    "SubmitMatchRequest": STAFF,
    "GetIntake": STAFF,
    "AcceptMatch": STAFF,
    "DeclineMatch": STAFF,
    "CloseMatch": STAFF,
    "GetMatch": STAFF | {"peer", "service:scheduler", "service:notifier"},
    "ListWaitlist": STAFF,
    "ListMatchRequests": STAFF,
    # A peer sees only their own assignment; the handler checks which.
    "GetAssignment": MANAGERS | {"peer"},
    "ListAssignments": MANAGERS | {"peer"},
    "RevokeConsent": STAFF,
    "RunBatchMatch": MANAGERS,
    "ConfirmBatch": MANAGERS,
    "StartBatchMatch": MANAGERS,
    "WatchBatchMatch": MANAGERS,
    "CancelBatchMatch": MANAGERS,
    "EraseParticipant": MANAGERS,
    "GetErasure": MANAGERS,
    # Aggregates only (docs/dashboard.md), but over participant data: audited.
    "GetProgrammeStats": MANAGERS,
    # The programme's rules, no participant data: staff see what the matcher runs.
    "GetPolicy": STAFF,
    # Existing caseloads: writes matches and loads for the whole programme.
    "ImportCaseload": MANAGERS,
    # Community groups: managers keep the directory, staff read it to refer.
    "UpsertGroup": MANAGERS,
    "ImportGroups": MANAGERS,
    "GetGroup": STAFF,
    "ListGroups": STAFF,
}

SERVICE = matcher_pb2.DESCRIPTOR.services_by_name["MatcherService"]
POLICY = Policy.for_service(SERVICE.full_name, [m.name for m in SERVICE.methods], TABLE)

# Calls that read or write participant data, and changes to the community-group
# directory (who changed a referral list matters): each leaves an audit record.
AUDITED = POLICY.methods(
    (
        "SubmitMatchRequest",
        "GetIntake",
        "AcceptMatch",
        "DeclineMatch",
        "CloseMatch",
        "GetMatch",
        "ListWaitlist",
        "ListMatchRequests",
        "RunBatchMatch",
        "ConfirmBatch",
        "StartBatchMatch",
        "WatchBatchMatch",
        "CancelBatchMatch",
        "GetAssignment",
        "ListAssignments",
        "RevokeConsent",
        "EraseParticipant",
        "GetErasure",
        "GetProgrammeStats",
        "ImportCaseload",
        "UpsertGroup",
        "ImportGroups",
    )
)
