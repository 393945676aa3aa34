"""Group sessions: create, read, list and cancel (docs/scheduler.md, "Group sessions").

A group's meetings go into its host's ``booked`` set, and its
co-facilitator's, as members ``<group id>.<n>|end``: the one conflict check
every booking passes (``commit.lua``) then keeps one-to-one sessions off
them, FindSlots and the planner see them as busy, and a group is itself
checked against the sessions already booked. The host's write is one atomic
commit; the co-facilitator's calendar is another peer's hash tag, so it is
written first (its own atomic commit, with its own idempotency record that
keeps the group id) and withdrawn again if the host's commit is refused.
Each facilitator's reminders of the meetings (``domain/group_reminders.py``)
are written and withdrawn in the same commit as their calendar's entries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from alongside.kit.uow import IDEMPOTENCY_TTL_S
from alongside.scheduler.adapters.codec import PeerCalendar, ms
from alongside.scheduler.adapters.commit import Candidate
from alongside.scheduler.adapters.group_codec import decode_group, encode_group
from alongside.scheduler.adapters.group_store import GroupStore
from alongside.scheduler.adapters.keys import new_group_id, peer_of, peer_tag, require_peer_id
from alongside.scheduler.domain import tz as tzx
from alongside.scheduler.domain.group_reminders import group_reminder_changes
from alongside.scheduler.domain.groups import GROUP_SESSION_TYPE, Group, occurrence_id
from alongside.scheduler.domain.recurrence import Series
from alongside.scheduler.domain.validation import zone
from alongside.scheduler.entrypoints import group_mappers as gm
from alongside.scheduler.entrypoints.mappers import future, ts_in
from alongside.scheduler.service import group_events
from alongside.scheduler.service.change import Change, day_bounds
from alongside.scheduler.service.context import MAX_ATTEMPTS, Context, Idem, replayed, require_calendar
from alongside.scheduler.service.rules import REFUSED, refusal

CO_SCOPE = "CreateGroupSession.co"


def group_host(group_id: str) -> str:
    """A group id names its host, so authorisation and keys need no lookup."""
    return peer_of(group_id, "group_id")


class GroupSessions:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.groups = GroupStore(ctx.store)

    async def load(self, group_id: str) -> Group:
        raw = await self.groups.group_raw(group_host(group_id), group_id)
        if raw is None:
            raise NotFound("group session not found")
        return decode_group(raw)

    async def out(self, group: Group) -> pb.GroupSession:
        enrolled, waiting = await self.groups.counts(group.host_peer_id, group.id)
        return gm.group_out(group, enrolled, waiting)

    async def get(self, req: pb.GetGroupSessionRequest) -> pb.GetGroupSessionResponse:
        return pb.GetGroupSessionResponse(group=await self.out(await self.load(req.group_id)))

    async def list(self, req: pb.ListGroupSessionsRequest) -> pb.ListGroupSessionsResponse:
        peer_id = require_peer_id(req.peer_id)
        found = await self.groups.facilitated(peer_id)
        found.sort(key=lambda g: (g.series.first_start_local, g.id))
        return pb.ListGroupSessionsResponse(groups=[await self.out(g) for g in found])

    async def create(self, req: pb.CreateGroupSessionRequest) -> pb.CreateGroupSessionResponse:
        host = require_peer_id(req.host_peer_id, "host_peer_id")
        idem = Idem.of(host, "CreateGroupSession", req.idempotency_key, req)
        stored = await self.ctx.store.idem(idem.redis_key(self.ctx))
        if stored is not None:
            return replayed(pb.CreateGroupSessionResponse, idem, stored)
        co = gm.optional_id(req.co_facilitator_peer_id, "co_facilitator_peer_id")
        if co == host:
            raise InvalidArgument("co_facilitator_peer_id", "must be another peer than the host")
        now = self.ctx.clock()
        capacity, modality = gm.capacity_in(req.capacity), gm.modality_in(req.modality)
        duration = gm.minutes_in(req.duration_minutes)
        start = future(ts_in(req, "start"), now, "start")
        if start > now + self.ctx.settings.booking_horizon:
            raise InvalidArgument("start", "is beyond the booking horizon")
        count, until = gm.recurrence_in(req)
        for _ in range(MAX_ATTEMPTS):
            calendar = require_calendar(await self.ctx.calendar(host, fresh=True))
            co_calendar = require_calendar(await self.ctx.calendar(co, fresh=True)) if co else None
            group_id = await self._co_group_id(co, idem) or new_group_id(host)
            group = Group(
                group_id, host, co, capacity, modality, _series(group_id, calendar, start, duration, count, until)
            )
            response = pb.CreateGroupSessionResponse(group=gm.group_out(group, 0, 0))
            if co_calendar is not None and not await self._hold_co(group, co_calendar, idem, now):
                continue
            change = Change(self.ctx, host, zone(calendar.tz), now)
            change.guard_calendar(calendar)
            occupy(change, group, host)
            remind(change, None, group, host)
            change.commit.hset(self.ctx.store.k.groups(host), group.id, encode_group(group))
            state = self.ctx.store.k.group(host, group.id)
            for name, value in (("cap", str(capacity)), ("st", "A"), ("seq", "0"), ("v", "0")):
                change.commit.hset(state, name, value)
            change.emit(group_events.created(group))
            change.finish(idem, response)
            outcome = await change.run()
            if outcome.kind == "ok":
                return response
            if outcome.kind == "replay":
                return replayed(pb.CreateGroupSessionResponse, idem, (outcome.fingerprint, outcome.response))
            if co_calendar is not None:
                await self._release_co(group, co_calendar, idem, now)
            if outcome.kind in REFUSED:
                raise FailedPrecondition(refusal(outcome.kind, outcome.index, True))
        raise Aborted("the peer's calendar kept changing; retry")

    async def _co_group_id(self, co: str | None, idem: Idem) -> str | None:
        """The group id a retried request already held the co-facilitator's calendar for."""
        if co is None:
            return None
        stored = await self.ctx.store.idem(self.ctx.store.k.idem(peer_tag(co), CO_SCOPE, idem.key))
        if stored is None or stored[0] != idem.fingerprint:
            return None
        return stored[1].decode()

    async def _hold_co(self, group: Group, calendar: PeerCalendar, idem: Idem, now: datetime) -> bool:
        """Block the co-facilitator's calendar for every meeting; False if it changed under us."""
        co = calendar.peer_id
        change = Change(self.ctx, co, zone(calendar.tz), now)
        change.guard_calendar(calendar)
        key = self.ctx.store.k.idem(peer_tag(co), CO_SCOPE, idem.key)
        change.commit.replay_from(key)
        occupy(change, group, co)
        remind(change, None, group, co)
        change.commit.sadd(self.ctx.store.k.cogroups(co), group.id)
        change.commit.remember(key, idem.fingerprint, group.id.encode(), IDEMPOTENCY_TTL_S)
        outcome = await change.run()
        if outcome.kind in REFUSED:
            raise FailedPrecondition("co-facilitator: " + refusal(outcome.kind, outcome.index, True))
        if outcome.kind == "replay" and outcome.fingerprint != idem.fingerprint:
            # The key held the co-facilitator's calendar for another request that never finished.
            raise InvalidArgument("idempotency_key", "was already used for a different request")
        return outcome.kind in ("ok", "replay")

    async def _release_co(self, group: Group, calendar: PeerCalendar, idem: Idem, now: datetime) -> None:
        co = calendar.peer_id
        change = Change(self.ctx, co, zone(calendar.tz), now)
        release(change, group, co)
        remind(change, group, group.cancelled(), co)
        change.commit.srem(self.ctx.store.k.cogroups(co), group.id)
        key = self.ctx.store.k.idem(peer_tag(co), CO_SCOPE, idem.key)
        change.commit.hdel(key, "fp")
        change.commit.hdel(key, "response")
        await change.run()

    async def cancel(self, req: pb.CancelGroupSessionRequest) -> pb.CancelGroupSessionResponse:
        host = group_host(req.group_id)
        idem = Idem.of(host, "CancelGroupSession", req.idempotency_key, req)
        stored = await self.ctx.store.idem(idem.redis_key(self.ctx))
        if stored is not None:
            return replayed(pb.CancelGroupSessionResponse, idem, stored)
        for _ in range(MAX_ATTEMPTS):
            raw = await self.groups.group_raw(host, req.group_id)
            if raw is None:
                raise NotFound("group session not found")
            group = decode_group(raw)
            if not group.active:
                raise FailedPrecondition("the group session is already cancelled")
            now = self.ctx.clock()
            after = group.cancelled()
            change = Change(self.ctx, host, zone(group.series.tz), now)
            change.commit.expect(self.ctx.store.k.groups(host), group.id, raw)
            change.commit.hset(self.ctx.store.k.groups(host), group.id, encode_group(after))
            change.commit.hset(self.ctx.store.k.group(host, group.id), "st", "C")
            release(change, group, host)
            remind(change, group, after, host)
            change.emit(group_events.cancelled(group))
            response = pb.CancelGroupSessionResponse(group=await self.out(after))
            change.finish(idem, response)
            outcome = await change.run()
            if outcome.kind in ("ok", "replay"):
                if group.co_facilitator_peer_id:
                    co_change = Change(self.ctx, group.co_facilitator_peer_id, zone(group.series.tz), now)
                    release(co_change, group, group.co_facilitator_peer_id)
                    remind(co_change, group, after, group.co_facilitator_peer_id)
                    await co_change.run()
                if outcome.kind == "replay":
                    return replayed(pb.CancelGroupSessionResponse, idem, (outcome.fingerprint, outcome.response))
                return response
        raise Aborted("the group session kept changing; retry")


def _series(
    group_id: str,
    calendar: PeerCalendar,
    start: datetime,
    duration: timedelta,
    count: int | None,
    until: datetime | None,
) -> Series:
    """The group's weekly series in the host's zone: the same rule as a one-to-one series."""
    peer_zone = zone(calendar.tz)
    if not tzx.expressible_as_wall_time(start, peer_zone):
        raise InvalidArgument("start", "a weekly series cannot start in the repeated hour's second pass")
    until_day = None if until is None else tzx.local_of(until, peer_zone).date()
    try:
        return Series(
            id=group_id,
            peer_id=calendar.peer_id,
            participant_ref="",
            tz=calendar.tz,
            first_start_local=tzx.local_of(start, peer_zone),
            duration=duration,
            count=count,
            until=until_day,
            session_type=GROUP_SESSION_TYPE,
        )
    except InvalidArgument as exc:
        raise InvalidArgument(f"recurrence.{exc.field}", exc.message.split(": ", 1)[-1]) from None


def _member(group: Group, index: int, end: datetime) -> str:
    return f"{occurrence_id(group.id, index)}|{ms(end)}"


def occupy(change: Change, group: Group, peer_id: str) -> None:
    """Every meeting into ``peer_id``'s booked set, each checked like a booking."""
    booked = change.k.booked(peer_id)
    for o in group.occurrences():
        change.commit.zadd(booked, ms(o.interval.start), _member(group, o.index, o.interval.end))
        day = tzx.local_of(o.interval.start, change.zone).date()
        change.candidates.append(Candidate(ms(o.interval.start), ms(o.interval.end), *day_bounds(day, change.zone)))


def release(change: Change, group: Group, peer_id: str) -> None:
    booked = change.k.booked(peer_id)
    for o in group.occurrences():
        change.commit.zrem(booked, _member(group, o.index, o.interval.end))


def remind(change: Change, before: Group | None, after: Group, peer_id: str) -> None:
    """Schedule and withdraw ``peer_id``'s reminders of the group's meetings in
    the same commit as the group's change (docs/scheduler.md, "Group sessions")."""
    plan = group_reminder_changes(before, after, change.ctx.policy.reminder_offsets, change.now)
    key = change.k.reminders(peer_id)
    for stale in plan.drop:
        change.commit.zrem(key, stale)
    for reminder in plan.add:
        change.commit.zadd(key, ms(reminder.due_at), reminder.id)
