"""100 concurrent enrolments for 12 seats, over real gRPC into two real
scheduler processes: 12 enrolled, 88 waiting in arrival order, and a freed
seat goes to the first waiting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.testing.auth import channel as auth_channel
from alongside.kit.testing.processes import replicas

from .conftest import EVERY_DAY, Scheduler, ts


async def test_100_concurrent_enrolments_for_12_seats(scheduler: Scheduler, nats_url: str, redis_url: str) -> None:
    await scheduler.peer("host", "UTC", EVERY_DAY)
    # The processes run on the real clock.
    start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=18, minute=0, second=0, microsecond=0)
    env = {"NATS_URL": nats_url, "REDIS_URL": redis_url, "NAMESPACE": scheduler.namespace}
    with replicas("alongside.scheduler", env, count=2) as ports:
        channels = [auth_channel(f"127.0.0.1:{port}", "intake", "staff-1") for port in ports]
        stubs = [scheduler_pb2_grpc.SchedulerServiceStub(c) for c in channels]
        create = pb.CreateGroupSessionRequest(
            idempotency_key="g",
            host_peer_id="host",
            capacity=12,
            modality=pb.GROUP_MODALITY_IN_PERSON,
            duration_minutes=60,
            start=ts(start),
            recurrence=pb.Recurrence(count=8),
        )
        async with auth_channel(f"127.0.0.1:{ports[0]}", "manager", "manager-1") as manager:
            group = (await scheduler_pb2_grpc.SchedulerServiceStub(manager).CreateGroupSession(create)).group

        async def enrol(i: int) -> pb.GroupEnrolment:
            request = pb.EnrolParticipantRequest(
                idempotency_key=f"e{i}", group_id=group.group_id, participant_ref=f"r{i}"
            )
            return (await stubs[i % 2].EnrolParticipant(request)).enrolment

        replies = await asyncio.gather(*(enrol(i) for i in range(100)))
        enrolled = [r for r in replies if r.status == pb.ENROLMENT_STATUS_ENROLLED]
        waiting = [r for r in replies if r.status == pb.ENROLMENT_STATUS_WAITING]
        assert len(enrolled) == 12 and len(waiting) == 88
        assert sorted(r.position for r in waiting) == list(range(1, 89))
        roster = await stubs[0].ListGroupEnrolments(pb.ListGroupEnrolmentsRequest(group_id=group.group_id))
        listed_waiting = [e for e in roster.enrolments if e.status == pb.ENROLMENT_STATUS_WAITING]
        # The waiting list is in the order the enrolments were answered.
        by_position = sorted(waiting, key=lambda r: r.position)
        assert [e.participant_ref for e in listed_waiting] == [r.participant_ref for r in by_position]
        assert {e.participant_ref for e in roster.enrolments if e.status == pb.ENROLMENT_STATUS_ENROLLED} == {
            r.participant_ref for r in enrolled
        }
        # Two withdrawals at once from two processes: the first two waiting take the seats.
        withdrawals = await asyncio.gather(
            *(
                stubs[i].WithdrawParticipant(
                    pb.WithdrawParticipantRequest(
                        idempotency_key=f"w{i}", group_id=group.group_id, participant_ref=enrolled[i].participant_ref
                    )
                )
                for i in range(2)
            )
        )
        promoted = {w.promoted.participant_ref for w in withdrawals}
        assert promoted == {by_position[0].participant_ref, by_position[1].participant_ref}
        after = await stubs[1].GetGroupSession(pb.GetGroupSessionRequest(group_id=group.group_id))
        assert (after.group.enrolled, after.group.waiting) == (12, 86)
        for chan in channels:
            await chan.close()
    kinds = [e.type for e in await scheduler.events() if e.type.startswith("session.group.")]
    assert (kinds.count("session.group.enrolled"), kinds.count("session.group.waitlisted")) == (12, 88)
    assert kinds.count("session.group.promoted") == 2
