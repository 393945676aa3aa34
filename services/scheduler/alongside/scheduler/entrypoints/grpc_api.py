"""gRPC servicer for the scheduler: thin, each RPC one use case.

Errors are raised as domain errors and mapped to status codes by the kit's
interceptor; no handler builds a status itself.
"""

from __future__ import annotations

from typing import Any

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.auth.policy import is_staff, optional_identity, require_own
from alongside.kit.errors import PermissionDenied
from alongside.scheduler.adapters.keys import peer_of
from alongside.scheduler.service.booking import Booking
from alongside.scheduler.service.calendar import Calendar
from alongside.scheduler.service.changes import Changes
from alongside.scheduler.service.group_roster import GroupRoster
from alongside.scheduler.service.groups import GroupSessions, group_host
from alongside.scheduler.service.plan import Planner
from alongside.scheduler.service.queries import Queries
from alongside.scheduler.service.stats import SessionStatsQuery

Ctx = Any  # grpc.aio.ServicerContext


class SchedulerServicer(scheduler_pb2_grpc.SchedulerServiceServicer):
    def __init__(
        self,
        calendar: Calendar,
        booking: Booking,
        changes: Changes,
        queries: Queries,
        planner: Planner,
        stats: SessionStatsQuery,
        groups: GroupSessions,
        roster: GroupRoster,
    ) -> None:
        self.calendar, self.booking, self.changes = calendar, booking, changes
        self.queries, self.planner, self.stats = queries, planner, stats
        self.groups, self.roster = groups, roster

    async def AddTimeOff(self, request: pb.AddTimeOffRequest, context: Ctx) -> pb.AddTimeOffResponse:
        require_own(request.peer_id, CALENDAR)
        return await self.calendar.add_time_off(request)

    async def RemoveTimeOff(self, request: pb.RemoveTimeOffRequest, context: Ctx) -> pb.RemoveTimeOffResponse:
        require_own(request.peer_id, CALENDAR)
        return await self.calendar.remove_time_off(request)

    async def FindSlots(self, request: pb.FindSlotsRequest, context: Ctx) -> pb.FindSlotsResponse:
        require_own(request.peer_id, CALENDAR)
        return await self.queries.find_slots(request)

    async def BookSession(self, request: pb.BookSessionRequest, context: Ctx) -> pb.BookSessionResponse:
        return await self.booking.book(request)

    async def RescheduleSession(
        self, request: pb.RescheduleSessionRequest, context: Ctx
    ) -> pb.RescheduleSessionResponse:
        _own_session(request.session_id)
        _staff_for_override(request.override_notice)
        return await self.changes.reschedule(request)

    async def CancelSession(self, request: pb.CancelSessionRequest, context: Ctx) -> pb.CancelSessionResponse:
        _own_session(request.session_id)
        _staff_for_override(request.override_notice)
        return await self.changes.cancel(request)

    async def MarkAttended(self, request: pb.MarkAttendedRequest, context: Ctx) -> pb.MarkAttendedResponse:
        _own_session(request.session_id)
        return await self.changes.mark_attended(request)

    async def MarkNoShow(self, request: pb.MarkNoShowRequest, context: Ctx) -> pb.MarkNoShowResponse:
        _own_session(request.session_id)
        return await self.changes.mark_no_show(request)

    async def GetSession(self, request: pb.GetSessionRequest, context: Ctx) -> pb.GetSessionResponse:
        _own_session(request.session_id)
        return await self.queries.get_session(request)

    async def ListSessions(self, request: pb.ListSessionsRequest, context: Ctx) -> pb.ListSessionsResponse:
        require_own(request.peer_id, SESSIONS)  # a peer must list by their own id
        return await self.queries.list_sessions(request)

    async def GetCalendarFeed(self, request: pb.GetCalendarFeedRequest, context: Ctx) -> pb.GetCalendarFeedResponse:
        require_own(request.peer_id, CALENDAR)
        return await self.queries.calendar_feed(request)

    async def PlanWeek(self, request: pb.PlanWeekRequest, context: Ctx) -> pb.PlanWeekResponse:
        return await self.planner.plan(request)

    async def GetSessionStats(self, request: pb.GetSessionStatsRequest, context: Ctx) -> pb.GetSessionStatsResponse:
        return await self.stats.get(request)

    # Group sessions: a peer reaches the groups they host or co-facilitate.
    async def CreateGroupSession(
        self, request: pb.CreateGroupSessionRequest, context: Ctx
    ) -> pb.CreateGroupSessionResponse:
        require_own(request.host_peer_id, GROUPS)
        return await self.groups.create(request)

    async def GetGroupSession(self, request: pb.GetGroupSessionRequest, context: Ctx) -> pb.GetGroupSessionResponse:
        await self._facilitator(request.group_id)
        return await self.groups.get(request)

    async def ListGroupSessions(
        self, request: pb.ListGroupSessionsRequest, context: Ctx
    ) -> pb.ListGroupSessionsResponse:
        require_own(request.peer_id, GROUPS)
        return await self.groups.list(request)

    async def CancelGroupSession(
        self, request: pb.CancelGroupSessionRequest, context: Ctx
    ) -> pb.CancelGroupSessionResponse:
        require_own(group_host(request.group_id), GROUPS)
        return await self.groups.cancel(request)

    async def EnrolParticipant(self, request: pb.EnrolParticipantRequest, context: Ctx) -> pb.EnrolParticipantResponse:
        return await self.roster.enrol(request)

    async def WithdrawParticipant(
        self, request: pb.WithdrawParticipantRequest, context: Ctx
    ) -> pb.WithdrawParticipantResponse:
        return await self.roster.withdraw(request)

    async def RecordGroupAttendance(
        self, request: pb.RecordGroupAttendanceRequest, context: Ctx
    ) -> pb.RecordGroupAttendanceResponse:
        await self._facilitator(request.group_id)
        return await self.roster.record_attendance(request)

    async def ListGroupEnrolments(
        self, request: pb.ListGroupEnrolmentsRequest, context: Ctx
    ) -> pb.ListGroupEnrolmentsResponse:
        await self._facilitator(request.group_id)
        return await self.roster.enrolments(request)

    async def _facilitator(self, group_id: str) -> None:
        """A peer must host or co-facilitate the group; staff reach every group."""
        identity = optional_identity()
        if identity is None or identity.role != "peer":
            return
        group = await self.groups.load(group_id)
        if identity.subject not in group.facilitators:
            raise PermissionDenied("a peer may reach only the groups they facilitate")


CALENDAR = "calendar"
GROUPS = "group sessions"
SESSIONS = "sessions"


def _own_session(session_id: str) -> None:
    """A session id names its peer, so the rule needs no lookup."""
    require_own(peer_of(session_id), SESSIONS)


def _staff_for_override(override_notice: bool) -> None:
    if override_notice and not is_staff():
        raise PermissionDenied("only staff may override the notice window")
