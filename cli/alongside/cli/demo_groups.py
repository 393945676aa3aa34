"""Demo step: a peer hosts a weekly group session and intake staff enrol
two participants, the second onto the waiting list."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.cli.demo_journey import Journey
from alongside.cli.errors import CliError
from alongside.cli.parsing import timestamp

STEP = 8


def group_session(j: Journey) -> None:
    j.step(
        STEP,
        "A peer hosts a group session",
        "Peers also run groups: a weekly meeting at the same local time, with a few seats. Staff enrol"
        " participants; when the seats are taken the next one waits, and a freed seat goes to the first waiting."
        " The meetings block the peer's calendar like any session.",
    )
    hosts = [m.peer_id for _, m in j.accepted] or [p.peer_id for p in j.data.peers]
    refs = [s.intake.ref for s in j.submitted][:2]
    group = _host(j, hosts[0])
    if group is None or len(refs) < 2:
        j.s.out.text("No free weekly hour for a group this time; try `alongside groups host` by hand.")
        return
    for n, ref in enumerate(refs):
        request = spb.EnrolParticipantRequest(
            idempotency_key=f"{j.key}:group:{n}", group_id=group.group_id, participant_ref=ref
        )
        j.s.clients.scheduler.call("EnrolParticipant", request)
    roster = j.s.clients.scheduler.call("ListGroupEnrolments", spb.ListGroupEnrolmentsRequest(group_id=group.group_id))
    first = group.occurrences[0].peer_local_start if group.occurrences else ""
    j.s.out.text(f"Group {group.group_id}: {len(group.occurrences)} weekly meetings from {first}, 1 seat.")
    rows = [
        (
            e.participant_ref,
            spb.EnrolmentStatus.Name(e.status).removeprefix("ENROLMENT_STATUS_").lower(),
            e.position or "",
        )
        for e in roster.enrolments
    ]
    j.s.out.table("Enrolments", ("participant", "status", "place"), rows)
    j.s.out.hint(f"Roster: alongside groups roster {group.group_id}")
    j.facts["group_enrolled"] = sum(1 for e in roster.enrolments if e.status == spb.ENROLMENT_STATUS_ENROLLED)
    j.facts["group_waiting"] = sum(1 for e in roster.enrolments if e.status == spb.ENROLMENT_STATUS_WAITING)


def _host(j: Journey, peer_id: str) -> spb.GroupSession | None:
    """The first evening next week whose weekly series fits the peer's calendar."""
    zone = ZoneInfo(next((p.time_zone for p in j.data.peers if p.peer_id == peer_id), "UTC"))
    base = datetime.now(zone).replace(hour=18, minute=0, second=0, microsecond=0) + timedelta(days=7)
    for day in range(7):
        request = spb.CreateGroupSessionRequest(
            idempotency_key=f"{j.key}:group-host:{day}",
            host_peer_id=peer_id,
            capacity=1,
            modality=spb.GROUP_MODALITY_VIDEO,
            duration_minutes=60,
            start=timestamp(base + timedelta(days=day)),
            recurrence=spb.Recurrence(count=6),
        )
        try:
            return j.s.clients.scheduler.call("CreateGroupSession", request).group  # type: ignore[no-any-return]
        except CliError:
            continue
    return None
