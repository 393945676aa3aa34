"""Peer-led group sessions through a real scheduler: creation, conflicts both
ways, enrolment and the waiting list, withdrawal and promotion, attendance,
the calendar feed, bad input per field and roles."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import grpc
import redis.asyncio as aioredis

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.api.scheduler.v1 import events_pb2 as ev
from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.testing.auth import channel
from alongside.kit.testing.wait import eventually
from alongside.scheduler.service.context import Idem
from alongside.scheduler.service.groups import CO_SCOPE

from .conftest import EVERY_DAY, Scheduler, rpc_error, ts, utc

TUESDAY_18 = utc(2027, 3, 2, 23)  # 18:00 in New York (EST)


def create_request(
    key: str, host: str = "host", start: datetime = TUESDAY_18, **extra: Any
) -> pb.CreateGroupSessionRequest:
    fields: dict[str, Any] = {
        "idempotency_key": key,
        "host_peer_id": host,
        "capacity": 12,
        "modality": pb.GROUP_MODALITY_VIDEO,
        "duration_minutes": 90,
        "recurrence": pb.Recurrence(count=6),
        **extra,
    }
    request = pb.CreateGroupSessionRequest(**fields)
    request.start.CopyFrom(ts(start))
    return request


async def create(s: Scheduler, key: str = "g1", **extra: Any) -> pb.GroupSession:
    return (await s.stub.CreateGroupSession(create_request(key, **extra))).group


async def enrol(s: Scheduler, group_id: str, ref: str, key: str = "") -> pb.GroupEnrolment:
    reply = await s.stub.EnrolParticipant(
        pb.EnrolParticipantRequest(idempotency_key=key or f"enrol-{ref}", group_id=group_id, participant_ref=ref)
    )
    return reply.enrolment


async def test_a_group_meets_weekly_at_the_hosts_wall_time_across_the_clock_change(scheduler: Scheduler) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    group = await create(scheduler)
    assert group.host_peer_id == "host" and group.group_id.startswith("host~")
    assert [o.index for o in group.occurrences] == list(range(6))
    # New York changes on 14 March 2027: 18:00 local stays 18:00, UTC moves.
    assert {o.peer_local_start[11:16] for o in group.occurrences} == {"18:00"}
    assert group.occurrences[1].start.ToDatetime().hour == 23 and group.occurrences[2].start.ToDatetime().hour == 22
    again = await scheduler.stub.GetGroupSession(pb.GetGroupSessionRequest(group_id=group.group_id))
    assert again.group == group
    replay = await create(scheduler)
    assert replay == group
    listed = await scheduler.stub.ListGroupSessions(pb.ListGroupSessionsRequest(peer_id="host"))
    assert [g.group_id for g in listed.groups] == [group.group_id]
    created = [e for e in await scheduler.events() if e.type == "session.group.created"]
    assert len(created) == 1 and created[0].parse(ev.GroupCreated).occurrences == 6


async def test_no_one_to_one_session_over_a_group_and_no_group_over_a_session(scheduler: Scheduler) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    await scheduler.peer("co", windows=EVERY_DAY)
    group = await create(scheduler, co_facilitator_peer_id="co")
    second_meeting = group.occurrences[1].start.ToDatetime()
    for peer in ("host", "co"):
        err = await rpc_error(scheduler.book(f"over-{peer}", peer, second_meeting + timedelta(minutes=30)))
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "overlaps another session" in err.details()
    # FindSlots leaves the meeting (and its buffer) out.
    slots = await scheduler.stub.FindSlots(
        pb.FindSlotsRequest(
            peer_id="host",
            duration_minutes=60,
            limit=50,
            earliest=ts(second_meeting - timedelta(hours=3)),
            horizon_end=ts(second_meeting + timedelta(hours=4)),
        )
    )
    meeting = (second_meeting, second_meeting + timedelta(minutes=90))
    assert slots.slots
    for slot in slots.slots:
        start, end = slot.start.ToDatetime(), slot.end.ToDatetime()
        assert end + timedelta(minutes=15) <= meeting[0] or start >= meeting[1] + timedelta(minutes=15)
    # A session first, then a group over it: refused, and nothing is held for the co-facilitator.
    await scheduler.peer("other", windows=EVERY_DAY)
    await scheduler.book("first", "other", utc(2027, 3, 10, 23))
    err = await rpc_error(
        scheduler.stub.CreateGroupSession(
            create_request("g2", host="other", co_facilitator_peer_id="co", start=utc(2027, 3, 3, 23))
        )
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "occurrence 1" in err.details()
    co_groups = await scheduler.stub.ListGroupSessions(pb.ListGroupSessionsRequest(peer_id="co"))
    assert [g.group_id for g in co_groups.groups] == [group.group_id]
    await scheduler.book("free-again", "co", utc(2027, 3, 10, 23))  # the refused group's time is free for co
    # The feed carries the group's meetings.
    feed = await scheduler.stub.GetCalendarFeed(pb.GetCalendarFeedRequest(peer_id="host"))
    assert group.group_id in feed.ics


async def test_enrolment_fills_the_seats_then_the_waiting_list_in_order(scheduler: Scheduler) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    group = await create(scheduler, capacity=2)
    first, second, third, fourth = [await enrol(scheduler, group.group_id, f"ref-{i}") for i in range(4)]
    assert [e.status for e in (first, second)] == [pb.ENROLMENT_STATUS_ENROLLED] * 2
    assert [(e.status, e.position) for e in (third, fourth)] == [
        (pb.ENROLMENT_STATUS_WAITING, 1),
        (pb.ENROLMENT_STATUS_WAITING, 2),
    ]
    assert await enrol(scheduler, group.group_id, "ref-0") == first  # a replay
    err = await rpc_error(
        scheduler.stub.EnrolParticipant(
            pb.EnrolParticipantRequest(idempotency_key="new", group_id=group.group_id, participant_ref="ref-3")
        )
    )
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    # A seat freed goes to the first waiting; a waiting one who leaves just leaves.
    out = await scheduler.stub.WithdrawParticipant(
        pb.WithdrawParticipantRequest(idempotency_key="w1", group_id=group.group_id, participant_ref="ref-1")
    )
    assert out.enrolment.status == pb.ENROLMENT_STATUS_WITHDRAWN
    assert out.promoted.participant_ref == "ref-2" and out.promoted.status == pb.ENROLMENT_STATUS_ENROLLED
    roster = await scheduler.stub.ListGroupEnrolments(pb.ListGroupEnrolmentsRequest(group_id=group.group_id))
    assert [(e.participant_ref, e.status, e.position) for e in roster.enrolments] == [
        ("ref-0", pb.ENROLMENT_STATUS_ENROLLED, 0),
        ("ref-2", pb.ENROLMENT_STATUS_ENROLLED, 0),
        ("ref-3", pb.ENROLMENT_STATUS_WAITING, 1),
        ("ref-1", pb.ENROLMENT_STATUS_WITHDRAWN, 0),
    ]
    kinds = [e.type for e in await scheduler.events() if e.type.startswith("session.group.")]
    assert kinds.count("session.group.enrolled") == 2 and kinds.count("session.group.waitlisted") == 2
    assert kinds.count("session.group.withdrawn") == 1 and kinds.count("session.group.promoted") == 1
    promoted = next(e for e in await scheduler.events() if e.type == "session.group.promoted")
    assert promoted.parse(ev.GroupEnrolmentChanged).enrolment_id == third.enrolment_id
    assert b"ref-" not in b"".join(e.body for e in await scheduler.events() if e.type.startswith("session.group."))


async def test_attendance_per_participant_per_meeting(scheduler: Scheduler) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    group = await create(scheduler)
    await enrol(scheduler, group.group_id, "ref-a")
    await enrol(scheduler, group.group_id, "ref-b")

    async def mark(key: str, ref: str, index: int, value: Any) -> Any:
        return scheduler.stub.RecordGroupAttendance(
            pb.RecordGroupAttendanceRequest(
                idempotency_key=key,
                group_id=group.group_id,
                occurrence_index=index,
                participant_ref=ref,
                attendance=value,
            )
        )

    err = await rpc_error(await mark("early", "ref-a", 0, pb.ATTENDANCE_ATTENDED))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "not begun" in err.details()
    scheduler.clock.advance(timedelta(days=9))  # the first two meetings have begun
    await (await mark("a0", "ref-a", 0, pb.ATTENDANCE_ATTENDED))
    await (await mark("b0", "ref-b", 0, pb.ATTENDANCE_ABSENT))
    await (await mark("a1", "ref-a", 1, pb.ATTENDANCE_ATTENDED))
    err = await rpc_error(await mark("x", "ref-nobody", 1, pb.ATTENDANCE_ATTENDED))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    err = await rpc_error(await mark("y", "ref-a", 9, pb.ATTENDANCE_ATTENDED))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "occurrence_index" in err.details()
    # The dashboard: attendance per week by the meeting's start, small cells suppressed (k = 5).
    for ref in ("ref-c", "ref-d", "ref-e", "ref-f"):
        await enrol(scheduler, group.group_id, ref)
        await (await mark(f"{ref}0", ref, 0, pb.ATTENDANCE_ATTENDED))
    stats = await scheduler.stub.GetSessionStats(
        pb.GetSessionStatsRequest(start=ts(utc(2027, 3, 1)), end=ts(utc(2027, 3, 15)))
    )
    weeks = [(w.bucket_start.ToDatetime().day, w.attended, w.absent) for w in stats.group_attendance]
    assert [(day, a.value, a.suppressed, n.suppressed) for day, a, n in weeks] == [
        (1, 5, False, True),
        (8, 0, True, False),
    ]
    roster = await scheduler.stub.ListGroupEnrolments(pb.ListGroupEnrolmentsRequest(group_id=group.group_id))
    assert [
        (a.participant_ref, a.occurrence_index, a.attendance) for a in roster.attendance if a.participant_ref < "ref-c"
    ] == [
        ("ref-a", 0, pb.ATTENDANCE_ATTENDED),
        ("ref-b", 0, pb.ATTENDANCE_ABSENT),
        ("ref-a", 1, pb.ATTENDANCE_ATTENDED),
    ]


async def test_cancelling_a_group_frees_the_calendars_and_closes_enrolment(scheduler: Scheduler) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    await scheduler.peer("co", windows=EVERY_DAY)
    group = await create(scheduler, co_facilitator_peer_id="co")
    reply = await scheduler.stub.CancelGroupSession(
        pb.CancelGroupSessionRequest(idempotency_key="c", group_id=group.group_id)
    )
    assert reply.group.status == pb.GROUP_STATUS_CANCELLED and not reply.group.occurrences
    meeting = group.occurrences[0].start.ToDatetime()
    await scheduler.book("host-free", "host", meeting)
    await scheduler.book("co-free", "co", meeting)
    err = await rpc_error(enrol(scheduler, group.group_id, "late"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_bad_input_names_the_field(scheduler: Scheduler) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    bad: dict[str, dict[str, Any]] = {
        "host_peer_id": {"host_peer_id": "not an id"},
        "co_facilitator_peer_id": {"co_facilitator_peer_id": "host"},
        "capacity": {"capacity": 0},
        "modality": {"modality": pb.GROUP_MODALITY_UNSPECIFIED},
        "duration_minutes": {"duration_minutes": 5},
        "recurrence.count": {"recurrence": pb.Recurrence(count=0)},
        "idempotency_key": {"idempotency_key": ""},
    }
    for field, extra in bad.items():
        fields = dict(extra)
        key = fields.pop("idempotency_key", "bad")
        err = await rpc_error(scheduler.stub.CreateGroupSession(create_request(key, **fields)))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and field in err.details(), (field, err.details())
    err = await rpc_error(scheduler.stub.CreateGroupSession(create_request("past", start=utc(2027, 2, 1))))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "start" in err.details()
    for call in (
        scheduler.stub.EnrolParticipant(
            pb.EnrolParticipantRequest(idempotency_key="k", group_id="nope", participant_ref="r")
        ),
        scheduler.stub.GetGroupSession(pb.GetGroupSessionRequest(group_id="")),
    ):
        err = await rpc_error(call)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "group_id" in err.details()
    group = await create(scheduler)
    err = await rpc_error(
        scheduler.stub.EnrolParticipant(
            pb.EnrolParticipantRequest(idempotency_key="k", group_id=group.group_id, participant_ref="a b")
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "participant_ref" in err.details()
    err = await rpc_error(scheduler.stub.GetGroupSession(pb.GetGroupSessionRequest(group_id="host~gnothere")))
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_roles(scheduler: Scheduler) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    await scheduler.peer("co", windows=EVERY_DAY)
    await scheduler.peer("stranger", windows=EVERY_DAY)
    target = f"127.0.0.1:{scheduler.runtime.port}"
    async with (
        channel(target, "peer", "host") as host_chan,
        channel(target, "peer", "co") as co_chan,
        channel(target, "peer", "stranger") as stranger_chan,
        channel(target, "intake", "staff-1") as intake_chan,
    ):
        as_host = scheduler_pb2_grpc.SchedulerServiceStub(host_chan)
        as_co = scheduler_pb2_grpc.SchedulerServiceStub(co_chan)
        as_stranger = scheduler_pb2_grpc.SchedulerServiceStub(stranger_chan)
        as_intake = scheduler_pb2_grpc.SchedulerServiceStub(intake_chan)
        group = (await as_host.CreateGroupSession(create_request("mine", co_facilitator_peer_id="co"))).group
        err = await rpc_error(as_stranger.CreateGroupSession(create_request("theirs")))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        err = await rpc_error(as_intake.CreateGroupSession(create_request("intake")))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        enrol_request = pb.EnrolParticipantRequest(idempotency_key="e", group_id=group.group_id, participant_ref="r1")
        await as_intake.EnrolParticipant(enrol_request)
        err = await rpc_error(as_host.EnrolParticipant(enrol_request))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        listing = pb.ListGroupEnrolmentsRequest(group_id=group.group_id)
        assert len((await as_co.ListGroupEnrolments(listing)).enrolments) == 1
        err = await rpc_error(as_stranger.ListGroupEnrolments(listing))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        err = await rpc_error(as_stranger.GetGroupSession(pb.GetGroupSessionRequest(group_id=group.group_id)))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        err = await rpc_error(
            as_co.CancelGroupSession(pb.CancelGroupSessionRequest(idempotency_key="c", group_id=group.group_id))
        )
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        assert (await as_co.ListGroupSessions(pb.ListGroupSessionsRequest(peer_id="co"))).groups[
            0
        ].group_id == group.group_id
        err = await rpc_error(as_co.ListGroupSessions(pb.ListGroupSessionsRequest(peer_id="host")))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_an_erased_participant_leaves_no_reference_in_any_roster(
    scheduler: Scheduler, redis_admin_url: str
) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    await scheduler.peer("own", windows=EVERY_DAY)
    # The participant's one-to-one session tells the erasure which reference is theirs.
    await scheduler.book("x", "own", utc(2027, 3, 3, 15), match_id="m-x")  # for ref-x
    group = await create(scheduler, capacity=1)
    await enrol(scheduler, group.group_id, "ref-x", "k1")  # keys are the caller's: these name no one
    await enrol(scheduler, group.group_id, "ref-y", "k2")
    scheduler.clock.advance(timedelta(days=2))
    await scheduler.stub.RecordGroupAttendance(
        pb.RecordGroupAttendanceRequest(
            idempotency_key="a",
            group_id=group.group_id,
            occurrence_index=0,
            participant_ref="ref-x",
            attendance=pb.ATTENDANCE_ATTENDED,
        )
    )
    withdraw = pb.WithdrawParticipantRequest(idempotency_key="w", group_id=group.group_id, participant_ref="ref-x")
    await scheduler.stub.WithdrawParticipant(withdraw)
    await scheduler.drained()  # its session.booked must be relayed before the erasure can scrub it

    erased = matcher_ev.ParticipantErased(
        erasure_id="er-1", matches=[matcher_ev.ErasedMatch(match_id="m-x", peer_id="own")]
    )
    await scheduler.publish("match.participant_erased", erased, "er-1")

    async def confirmed() -> bool:
        return any(e.type == "session.erasure_confirmed" for e in await scheduler.events())

    await eventually(confirmed, timeout=15, what="erasure confirmed")
    roster = await scheduler.stub.ListGroupEnrolments(pb.ListGroupEnrolmentsRequest(group_id=group.group_id))
    assert [(e.participant_ref, e.status) for e in roster.enrolments] == [
        ("ref-y", pb.ENROLMENT_STATUS_ENROLLED),
        ("", pb.ENROLMENT_STATUS_WITHDRAWN),
    ]
    assert [(a.participant_ref, a.attendance) for a in roster.attendance] == [("", pb.ATTENDANCE_ATTENDED)]
    deps = scheduler.runtime.deps
    assert deps is not None
    admin = aioredis.from_url(redis_admin_url)
    async for key in admin.scan_iter(match=deps.keys.pattern("*")):
        kind = (await admin.type(key)).decode()  # type: ignore[union-attr]
        if kind == "hash":
            content = repr(await admin.hgetall(key))
        elif kind == "zset":
            content = repr(await admin.zrange(key, 0, -1))
        else:
            continue
        assert b"ref-x" not in key and "ref-x" not in content, key
    await admin.aclose()
    # A replay of the withdrawal that named the participant is not answered from a record that holds it.
    err = await rpc_error(scheduler.stub.WithdrawParticipant(withdraw))
    assert err.code() == grpc.StatusCode.NOT_FOUND


async def test_a_group_over_the_co_facilitators_session_is_refused_and_holds_nothing(scheduler: Scheduler) -> None:
    await scheduler.peer("host", windows=EVERY_DAY)
    await scheduler.peer("co", windows=EVERY_DAY)
    await scheduler.book("co-busy", "co", utc(2027, 3, 16, 22, 30))  # overlaps the third meeting (18:00 EDT)
    err = await rpc_error(scheduler.stub.CreateGroupSession(create_request("g", co_facilitator_peer_id="co")))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (
        err.details()
        == "co-facilitator: occurrence 2 is not bookable: it overlaps another session of the peer, buffers included"
    )
    for peer in ("host", "co"):
        assert not (await scheduler.stub.ListGroupSessions(pb.ListGroupSessionsRequest(peer_id=peer))).groups
    await scheduler.book("host-free", "host", TUESDAY_18)  # the host's calendar was never touched
    # Time off of the host refuses too, naming it.
    await scheduler.stub.AddTimeOff(
        pb.AddTimeOffRequest(
            idempotency_key="off", peer_id="host", start=ts(utc(2027, 3, 23)), end=ts(utc(2027, 3, 25))
        )
    )
    err = await rpc_error(scheduler.stub.CreateGroupSession(create_request("g2", start=utc(2027, 3, 3, 23))))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "time off" in err.details()


async def test_a_retry_after_a_crash_between_the_two_calendars_finishes_the_same_group(
    scheduler: Scheduler, redis_admin_url: str
) -> None:
    """The co-facilitator's calendar is written first, under its own record of the key; a retry
    of the same request reuses that group id, and another request under the key is refused."""
    await scheduler.peer("host", windows=EVERY_DAY)
    await scheduler.peer("co", windows=EVERY_DAY)
    deps = scheduler.runtime.deps
    assert deps is not None
    request = create_request("crashy", co_facilitator_peer_id="co")
    fingerprint = Idem.of("host", "CreateGroupSession", "crashy", request).fingerprint
    admin = aioredis.from_url(redis_admin_url)
    record = deps.keys.key("peer:co", "idem", CO_SCOPE, "crashy")
    # As a process that held the co-facilitator's calendar and died before the host's commit left it:
    await admin.hset(record, mapping={"fp": fingerprint, "response": b"host~gcrashed1"})
    other = create_request("crashy", co_facilitator_peer_id="co", capacity=5)
    err = await rpc_error(scheduler.stub.CreateGroupSession(other))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "idempotency_key" in err.details()
    group = (await scheduler.stub.CreateGroupSession(request)).group
    assert group.group_id == "host~gcrashed1"
    await admin.aclose()
