"""Enrolment, withdrawal, attendance and the roster of a group session.

Enrolment is one call of ``enrol.lua``: the seat check, the enrolment or the
waiting-list append, the event and the idempotency record in one atomic
step, so concurrent enrolments fill exactly the seats and queue the rest in
arrival order. A withdrawal, and the promotion of the first waiting into the
freed seat, is one ``commit.lua`` call guarded by the roster's version
(every enrolment bumps it): a roster that changed meanwhile is re-read.
"""

from __future__ import annotations

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import Aborted, AlreadyExists, FailedPrecondition, NotFound
from alongside.kit.ids import new_id
from alongside.kit.uow import IDEMPOTENCY_TTL_S
from alongside.scheduler.adapters.codec import ms
from alongside.scheduler.adapters.enrolling import EnrolKeys, Enrolling
from alongside.scheduler.adapters.keys import peer_tag, require_ref
from alongside.scheduler.domain.groups import ERASED, Enrolment, Group, RosterEntry, roster_order
from alongside.scheduler.domain.validation import zone
from alongside.scheduler.entrypoints import group_mappers as gm
from alongside.scheduler.service import group_events
from alongside.scheduler.service.change import Change
from alongside.scheduler.service.context import MAX_ATTEMPTS, Context, Idem, replayed
from alongside.scheduler.service.groups import GroupSessions, group_host


class GroupRoster:
    def __init__(self, ctx: Context, sessions: GroupSessions, enrolling: Enrolling) -> None:
        self.ctx, self.sessions, self.enrolling = ctx, sessions, enrolling
        self.k = ctx.store.k

    async def enrol(self, req: pb.EnrolParticipantRequest) -> pb.EnrolParticipantResponse:
        host = group_host(req.group_id)
        ref = require_ref(req.participant_ref, "participant_ref")
        idem = Idem.of(host, "EnrolParticipant", req.idempotency_key, req)
        group = await self.sessions.load(req.group_id)
        now = self.ctx.clock()
        if group.active and all(o.interval.end <= now for o in group.occurrences()):
            raise FailedPrecondition("the group session has no meetings left")
        enrolment_id = new_id("e")
        events = (
            group_events.enrolment(group_events.ENROLLED, group, enrolment_id),
            group_events.enrolment(group_events.WAITLISTED, group, enrolment_id),
        )
        outcome = await self.enrolling.enrol(
            self._keys(group, idem), ref, enrolment_id, ms(now), idem.fingerprint, IDEMPOTENCY_TTL_S, events
        )
        if outcome.kind == "replay" and outcome.fingerprint != idem.fingerprint:
            replayed(pb.EnrolParticipantResponse, idem, (outcome.fingerprint, b""))  # raises
        if outcome.kind in ("ok", "replay"):
            await self.ctx.outbox.committed({peer_tag(host)})
            return pb.EnrolParticipantResponse(enrolment=_stored(ref, outcome.response))
        if outcome.kind == "already":
            where = "enrolled" if outcome.letter == Enrolment.ENROLLED.value else "on the waiting list"
            raise AlreadyExists(f"the participant is already {where}")
        raise FailedPrecondition("the group session is cancelled")

    def _keys(self, group: Group, idem: Idem) -> EnrolKeys:
        host = group.host_peer_id
        return EnrolKeys(
            state=self.k.group(host, group.id),
            enrolled=self.k.group(host, group.id, "in"),
            waiting=self.k.group(host, group.id, "wait"),
            outbox=self.ctx.outbox.key(peer_tag(host)),
            idem=idem.redis_key(self.ctx),
        )

    async def withdraw(self, req: pb.WithdrawParticipantRequest) -> pb.WithdrawParticipantResponse:
        host = group_host(req.group_id)
        ref = require_ref(req.participant_ref, "participant_ref")
        idem = Idem.of(host, "WithdrawParticipant", req.idempotency_key, req)
        stored = await self.ctx.store.idem(idem.redis_key(self.ctx))
        if stored is not None:
            return replayed(pb.WithdrawParticipantResponse, idem, stored)
        group = await self.sessions.load(req.group_id)
        for _ in range(MAX_ATTEMPTS):
            roster = await self.sessions.groups.roster(host, group.id)
            entry = roster.entries.get(ref)
            if entry is None or entry.status is Enrolment.WITHDRAWN:
                raise NotFound("the participant is not enrolled in this group session")
            now = self.ctx.clock()
            state = self.k.group(host, group.id)
            change = Change(self.ctx, host, zone(group.series.tz), now)
            change.commit.expect(state, "v", roster.version)
            change.commit.hset(state, "v", str(int(roster.version or b"0") + 1))
            gone = RosterEntry(ref, Enrolment.WITHDRAWN, entry.seq, entry.enrolment_id, ms(now))
            change.commit.hset(state, f"e:{ref}", gone.encode())
            change.emit(group_events.enrolment(group_events.WITHDRAWN, group, entry.enrolment_id))
            response = pb.WithdrawParticipantResponse(enrolment=gm.enrolment_out(gone))
            if entry.status is Enrolment.WAITING:
                change.commit.zrem(self.k.group(host, group.id, "wait"), ref)
            else:
                change.commit.zrem(self.k.group(host, group.id, "in"), ref)
                if roster.waiting and group.active:
                    promoted = self._promote(change, group, roster.entries[roster.waiting[0]], ms(now))
                    response.promoted.CopyFrom(gm.enrolment_out(promoted))
            change.finish(idem, response)
            outcome = await change.run()
            if outcome.kind == "ok":
                return response
            if outcome.kind == "replay":
                return replayed(pb.WithdrawParticipantResponse, idem, (outcome.fingerprint, outcome.response))
        raise Aborted("the roster kept changing; retry")

    def _promote(self, change: Change, group: Group, first: RosterEntry, now_ms: int) -> RosterEntry:
        """The first on the waiting list takes the freed seat; the host is told."""
        host = group.host_peer_id
        promoted = RosterEntry(first.participant_ref, Enrolment.ENROLLED, first.seq, first.enrolment_id, now_ms)
        change.commit.zrem(self.k.group(host, group.id, "wait"), first.participant_ref)
        change.commit.zadd(self.k.group(host, group.id, "in"), first.seq, first.participant_ref)
        change.commit.hset(self.k.group(host, group.id), f"e:{first.participant_ref}", promoted.encode())
        change.emit(group_events.enrolment(group_events.PROMOTED, group, first.enrolment_id))
        return promoted

    async def record_attendance(self, req: pb.RecordGroupAttendanceRequest) -> pb.RecordGroupAttendanceResponse:
        host = group_host(req.group_id)
        ref = require_ref(req.participant_ref, "participant_ref")
        letter = gm.attendance_in(req.attendance)
        idem = Idem.of(host, "RecordGroupAttendance", req.idempotency_key, req)
        stored = await self.ctx.store.idem(idem.redis_key(self.ctx))
        if stored is not None:
            return replayed(pb.RecordGroupAttendanceResponse, idem, stored)
        group = await self.sessions.load(req.group_id)
        occurrence = group.occurrence(req.occurrence_index)
        now = self.ctx.clock()
        if occurrence.interval.start > now:
            raise FailedPrecondition("the meeting has not begun")
        roster = await self.sessions.groups.roster(host, group.id)
        entry = roster.entries.get(ref)
        if entry is None or entry.status is not Enrolment.ENROLLED:
            raise FailedPrecondition("the participant is not enrolled in this group session")
        state = self.k.group(host, group.id)
        change = Change(self.ctx, host, zone(group.series.tz), now)
        change.commit.expect(state, f"e:{ref}", entry.encode().encode())
        change.commit.hset(self.k.group(host, group.id, "att"), f"{occurrence.index}|{ref}", letter)
        fact = f"{group.id}|{occurrence.index}|{entry.enrolment_id}"
        change.commit.hset(self.k.group_facts(host), fact, f"{ms(occurrence.interval.start)}|{letter}")
        change.emit(group_events.attendance(group, entry.enrolment_id, occurrence.index, req.attendance))
        response = pb.RecordGroupAttendanceResponse(occurrence_index=occurrence.index, attendance=req.attendance)
        change.finish(idem, response)
        outcome = await change.run()
        if outcome.kind == "ok":
            return response
        if outcome.kind == "replay":
            return replayed(pb.RecordGroupAttendanceResponse, idem, (outcome.fingerprint, outcome.response))
        raise Aborted("the participant's enrolment changed meanwhile; retry")

    async def enrolments(self, req: pb.ListGroupEnrolmentsRequest) -> pb.ListGroupEnrolmentsResponse:
        group = await self.sessions.load(req.group_id)
        roster = await self.sessions.groups.roster(group.host_peer_id, group.id)
        response = pb.ListGroupEnrolmentsResponse()
        for entry in roster_order(list(roster.entries.values())):
            response.enrolments.append(gm.enrolment_out(entry, roster.position(entry.participant_ref)))
        for (index, ref), letter in sorted(roster.attendance.items()):
            ref = "" if ref.startswith(ERASED) else ref
            response.attendance.append(
                pb.ParticipantAttendance(
                    participant_ref=ref, occurrence_index=index, attendance=gm.ATTENDANCE_OUT[letter]
                )
            )
        return response


def _stored(ref: str, response: str) -> pb.GroupEnrolment:
    """The enrolment from what ``enrol.lua`` stored: "<letter>|seq|id|ms|position"."""
    head, _, position = response.rpartition("|")
    return gm.enrolment_out(RosterEntry.decode(ref, head), int(position))
