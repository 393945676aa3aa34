"""The one client of the three services' gRPC APIs.

Every call carries the signed-in person's bearer token, so the services
authorise and audit it as that person; the console adds nothing of its own.
Channels are shared (one per service); the token goes with each call.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import grpc
from grpc import aio

from alongside.api.audit.v1 import audit_pb2 as apb
from alongside.api.audit.v1 import audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.console.settings import ConsoleSettings
from alongside.kit import tracing
from alongside.kit.grpc import tls

CORRELATION_HEADER = "x-correlation-id"
POLICY_TTL_S = 60.0


def key() -> str:
    """A fresh idempotency key: one per form submission."""
    return "console-" + uuid.uuid4().hex


class Backends:
    """The channels to the three services, opened at start-up, closed at shutdown."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self._channels: list[aio.Channel] = []
        self.matcher: Any = None
        self.audit: Any = None
        self.scheduler: Any = None
        self.notifier: Any = None
        self.policy_cache: tuple[float, mpb.ProgrammePolicy] | None = None

    def open(self) -> None:
        s = self.settings
        addresses = (s.matcher_addr, s.scheduler_addr, s.notifier_addr)
        credentials = channel_credentials(s)
        traced = tracing.client_interceptors()  # a client span per call, with tracing on
        if credentials is None:
            channels = [aio.insecure_channel(a, interceptors=traced) for a in addresses]
        else:
            channels = [aio.secure_channel(a, credentials, interceptors=traced) for a in addresses]
        self._channels = channels
        self.matcher = matcher_pb2_grpc.MatcherServiceStub(channels[0])
        self.audit = audit_pb2_grpc.AuditServiceStub(channels[0])  # the matcher serves the audit trail
        self.scheduler = scheduler_pb2_grpc.SchedulerServiceStub(channels[1])
        self.notifier = notifier_pb2_grpc.NotifierServiceStub(channels[2])

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
        self._channels = []

    def as_person(self, token: str) -> Calls:
        return Calls(self, token)


class Calls:
    """The RPCs the console makes, each as the person whose token it holds."""

    def __init__(self, backends: Backends, token: str) -> None:
        self._b = backends
        correlation = "console-" + uuid.uuid4().hex[:16]
        self._metadata = (("authorization", f"Bearer {token}"), (CORRELATION_HEADER, correlation))
        self._timeout = backends.settings.rpc_timeout_seconds

    async def _unary(self, stub: Any, rpc: str, request: Any) -> Any:
        return await getattr(stub, rpc)(request, timeout=self._timeout, metadata=self._metadata)

    # Matcher.

    async def submit(self, request: mpb.SubmitMatchRequestRequest) -> mpb.MatchRequest:
        reply = await self._unary(self._b.matcher, "SubmitMatchRequest", request)
        return reply.request  # type: ignore[no-any-return]

    async def policy(self) -> mpb.ProgrammePolicy:
        """The matcher's programme policy, asked at most once a minute for everyone:
        it changes only when the matcher restarts with another document."""
        cached = self._b.policy_cache
        if cached is not None and time.monotonic() - cached[0] < POLICY_TTL_S:
            return cached[1]
        reply = await self._unary(self._b.matcher, "GetPolicy", mpb.GetPolicyRequest())
        self._b.policy_cache = (time.monotonic(), reply.policy)
        return reply.policy  # type: ignore[no-any-return]

    async def intake(self, request_id: str) -> mpb.MatchRequest:
        reply = await self._unary(self._b.matcher, "GetIntake", mpb.GetIntakeRequest(request_id=request_id))
        return reply.request  # type: ignore[no-any-return]

    async def peer(self, peer_id: str) -> mpb.Peer:
        reply = await self._unary(self._b.matcher, "GetPeer", mpb.GetPeerRequest(peer_id=peer_id))
        return reply.peer  # type: ignore[no-any-return]

    async def accept(self, request_id: str, peer_id: str, idempotency_key: str) -> mpb.Match:
        req = mpb.AcceptMatchRequest(idempotency_key=idempotency_key, request_id=request_id, peer_id=peer_id)
        reply = await self._unary(self._b.matcher, "AcceptMatch", req)
        return reply.match  # type: ignore[no-any-return]

    async def import_roster(self, data: bytes, dry_run: bool, idempotency_key: str) -> mpb.ImportRosterResponse:
        req = mpb.ImportRosterRequest(idempotency_key=idempotency_key, csv=data, dry_run=dry_run)
        reply: mpb.ImportRosterResponse = await self._unary(self._b.matcher, "ImportRoster", req)
        return reply

    async def start_batch(self, request_ids: list[str], policy: mpb.BatchPolicy, time_limit_s: float,
                          idempotency_key: str) -> str:
        """Start a batch; the matcher answers at once with its id and solves in the background."""
        req = mpb.StartBatchMatchRequest(idempotency_key=idempotency_key, request_ids=request_ids,
                                         time_limit_seconds=time_limit_s, policy=policy)
        return str((await self._unary(self._b.matcher, "StartBatchMatch", req)).batch_id)

    def watch_batch(self, batch_id: str) -> Any:
        """A batch's progress from its start, ending with DONE (the run), FAILED or CANCELLED (read with
        ``read()``; ``aio.EOF`` at its end). No deadline: the caller cancels it."""
        req = mpb.WatchBatchMatchRequest(batch_id=batch_id)
        return self._b.matcher.WatchBatchMatch(req, metadata=self._metadata)

    async def cancel_batch(self, batch_id: str, idempotency_key: str) -> mpb.BatchProgress:
        """Ask the matcher to stop the batch; its progress then ends CANCELLED (unless it had ended)."""
        req = mpb.CancelBatchMatchRequest(idempotency_key=idempotency_key, batch_id=batch_id)
        reply: mpb.CancelBatchMatchResponse = await self._unary(self._b.matcher, "CancelBatchMatch", req)
        return reply.progress

    async def confirm_batch(
        self, batch_id: str, request_ids: list[str], idempotency_key: str
    ) -> mpb.ConfirmBatchResponse:
        req = mpb.ConfirmBatchRequest(idempotency_key=idempotency_key, batch_id=batch_id, request_ids=request_ids)
        reply: mpb.ConfirmBatchResponse = await self._unary(self._b.matcher, "ConfirmBatch", req)
        return reply

    async def match(self, match_id: str) -> mpb.Match:
        reply = await self._unary(self._b.matcher, "GetMatch", mpb.GetMatchRequest(match_id=match_id))
        return reply.match  # type: ignore[no-any-return]

    async def peers(self, page_token: str, page_size: int = 100, **filters: Any) -> mpb.ListPeersResponse:
        req = mpb.ListPeersRequest(page_size=page_size, page_token=page_token, **filters)
        reply: mpb.ListPeersResponse = await self._unary(self._b.matcher, "ListPeers", req)
        return reply

    async def upsert_peer(self, peer: mpb.Peer, idempotency_key: str) -> mpb.Peer:
        req = mpb.UpsertPeerRequest(idempotency_key=idempotency_key, peer=peer)
        reply = await self._unary(self._b.matcher, "UpsertPeer", req)
        return reply.peer  # type: ignore[no-any-return]

    async def set_peer_status(self, peer_id: str, status: int, idempotency_key: str) -> mpb.Peer:
        req = mpb.SetPeerStatusRequest(idempotency_key=idempotency_key, peer_id=peer_id, status=status)  # type: ignore[arg-type]
        reply = await self._unary(self._b.matcher, "SetPeerStatus", req)
        return reply.peer  # type: ignore[no-any-return]

    async def audit_records(self, page_token: str, page_size: int = 50, **filters: str) -> apb.ListAuditRecordsResponse:
        req = apb.ListAuditRecordsRequest(page_size=page_size, page_token=page_token, **filters)
        reply: apb.ListAuditRecordsResponse = await self._unary(self._b.audit, "ListAuditRecords", req)
        return reply

    async def assignment(self, match_id: str) -> mpb.Assignment:
        reply = await self._unary(self._b.matcher, "GetAssignment", mpb.GetAssignmentRequest(match_id=match_id))
        return reply.assignment  # type: ignore[no-any-return]

    async def decline(self, request_id: str, peer_id: str, idempotency_key: str) -> mpb.MatchRequest:
        req = mpb.DeclineMatchRequest(idempotency_key=idempotency_key, request_id=request_id, peer_id=peer_id)
        reply = await self._unary(self._b.matcher, "DeclineMatch", req)
        return reply.request  # type: ignore[no-any-return]

    async def waitlist(self, page_size: int = 200, page_token: str = "") -> mpb.ListWaitlistResponse:
        req = mpb.ListWaitlistRequest(page_size=page_size, page_token=page_token)
        reply: mpb.ListWaitlistResponse = await self._unary(self._b.matcher, "ListWaitlist", req)
        return reply

    async def match_requests(self, req: mpb.ListMatchRequestsRequest) -> mpb.ListMatchRequestsResponse:
        reply: mpb.ListMatchRequestsResponse = await self._unary(self._b.matcher, "ListMatchRequests", req)
        return reply

    async def assignments(self, peer_id: str, page_token: str = "", include_closed: bool = False,
                          page_size: int = 20) -> mpb.ListAssignmentsResponse:
        req = mpb.ListAssignmentsRequest(peer_id=peer_id, page_token=page_token, include_closed=include_closed,
                                         page_size=page_size)
        reply: mpb.ListAssignmentsResponse = await self._unary(self._b.matcher, "ListAssignments", req)
        return reply

    async def programme_stats(self, start: datetime, end: datetime, bucket: int) -> mpb.GetProgrammeStatsResponse:
        req = mpb.GetProgrammeStatsRequest(bucket=bucket)  # type: ignore[arg-type]
        req.start.FromDatetime(start)
        req.end.FromDatetime(end)
        reply: mpb.GetProgrammeStatsResponse = await self._unary(self._b.matcher, "GetProgrammeStats", req)
        return reply

    # The community-group directory.

    async def community_groups(self, req: mpb.ListGroupsRequest) -> mpb.ListGroupsResponse:
        reply: mpb.ListGroupsResponse = await self._unary(self._b.matcher, "ListGroups", req)
        return reply

    async def community_group(self, group_id: str) -> mpb.CommunityGroup:
        reply = await self._unary(self._b.matcher, "GetGroup", mpb.GetGroupRequest(group_id=group_id))
        return reply.group  # type: ignore[no-any-return]

    async def upsert_community_group(self, group: mpb.CommunityGroup, idempotency_key: str) -> mpb.CommunityGroup:
        req = mpb.UpsertGroupRequest(idempotency_key=idempotency_key, group=group)
        return (await self._unary(self._b.matcher, "UpsertGroup", req)).group  # type: ignore[no-any-return]

    async def import_community_groups(
        self, data: bytes, dry_run: bool, idempotency_key: str
    ) -> mpb.ImportGroupsResponse:
        req = mpb.ImportGroupsRequest(idempotency_key=idempotency_key, csv=data, dry_run=dry_run)
        reply: mpb.ImportGroupsResponse = await self._unary(self._b.matcher, "ImportGroups", req)
        return reply

    # Scheduler.

    async def session_stats(self, start: datetime, end: datetime, bucket: int) -> spb.GetSessionStatsResponse:
        req = spb.GetSessionStatsRequest(bucket=bucket)  # type: ignore[arg-type]
        req.start.FromDatetime(start)
        req.end.FromDatetime(end)
        reply: spb.GetSessionStatsResponse = await self._unary(self._b.scheduler, "GetSessionStats", req)
        return reply

    async def sessions(self, peer_id: str, start: datetime, end: datetime) -> list[spb.Session]:
        req = spb.ListSessionsRequest(peer_id=peer_id, page_size=200)
        req.start.FromDatetime(start)
        req.end.FromDatetime(end)
        out: list[spb.Session] = []
        while True:
            reply = await self._unary(self._b.scheduler, "ListSessions", req)
            out.extend(reply.sessions)
            if not reply.next_page_token or len(out) >= 1000:
                return out
            req.page_token = reply.next_page_token

    async def session(self, session_id: str) -> spb.Session:
        req = spb.GetSessionRequest(session_id=session_id)
        reply = await self._unary(self._b.scheduler, "GetSession", req)
        return reply.session  # type: ignore[no-any-return]

    async def mark(self, session_id: str, attended: bool, idempotency_key: str) -> spb.Session:
        if attended:
            req: Any = spb.MarkAttendedRequest(idempotency_key=idempotency_key, session_id=session_id)
            reply = await self._unary(self._b.scheduler, "MarkAttended", req)
            return reply.session  # type: ignore[no-any-return]
        req = spb.MarkNoShowRequest(idempotency_key=idempotency_key, session_id=session_id)
        reply = await self._unary(self._b.scheduler, "MarkNoShow", req)
        return reply.session  # type: ignore[no-any-return]

    # Group sessions.

    async def group_sessions(self, peer_id: str) -> list[spb.GroupSession]:
        req = spb.ListGroupSessionsRequest(peer_id=peer_id)
        return list((await self._unary(self._b.scheduler, "ListGroupSessions", req)).groups)

    async def group_session(self, group_id: str) -> spb.GroupSession:
        req = spb.GetGroupSessionRequest(group_id=group_id)
        return (await self._unary(self._b.scheduler, "GetGroupSession", req)).group  # type: ignore[no-any-return]

    async def group_enrolments(self, group_id: str) -> spb.ListGroupEnrolmentsResponse:
        req = spb.ListGroupEnrolmentsRequest(group_id=group_id)
        return await self._unary(self._b.scheduler, "ListGroupEnrolments", req)  # type: ignore[no-any-return]

    async def enrol(self, group_id: str, participant_ref: str, idempotency_key: str) -> spb.GroupEnrolment:
        req = spb.EnrolParticipantRequest(
            idempotency_key=idempotency_key, group_id=group_id, participant_ref=participant_ref
        )
        return (await self._unary(self._b.scheduler, "EnrolParticipant", req)).enrolment  # type: ignore[no-any-return]

    async def calendar_feed(self, peer_id: str) -> str:
        req = spb.GetCalendarFeedRequest(peer_id=peer_id)
        return str((await self._unary(self._b.scheduler, "GetCalendarFeed", req)).ics)

    # Notifier.

    async def contact_preferences(self, peer_id: str) -> npb.ContactPreferences:
        req = npb.GetContactPreferencesRequest(peer_id=peer_id)
        reply = await self._unary(self._b.notifier, "GetContactPreferences", req)
        return reply.preferences  # type: ignore[no-any-return]

    async def set_contact_preferences(self, prefs: npb.ContactPreferences, idempotency_key: str) -> None:
        req = npb.SetContactPreferencesRequest(idempotency_key=idempotency_key, preferences=prefs)
        await self._unary(self._b.notifier, "SetContactPreferences", req)

    async def notifications(self, peer_id: str, page_size: int = 50) -> list[npb.Notification]:
        req = npb.ListNotificationsRequest(peer_id=peer_id, page_size=page_size)
        return list((await self._unary(self._b.notifier, "ListNotifications", req)).notifications)

    async def acknowledge(self, peer_id: str, ids: Sequence[str], idempotency_key: str) -> int:
        req = npb.AcknowledgeRequest(idempotency_key=idempotency_key, peer_id=peer_id, notification_ids=list(ids))
        return int((await self._unary(self._b.notifier, "Acknowledge", req)).acknowledged)

    def watch(self, peer_id: str, after_id: str) -> Any:
        """The live stream of new inbox items (read with ``read()``; ``aio.EOF`` at its end).
        No deadline: the caller cancels it."""
        req = npb.WatchNotificationsRequest(peer_id=peer_id, after_id=after_id)
        return self._b.notifier.WatchNotifications(req, metadata=self._metadata)


def channel_credentials(settings: ConsoleSettings) -> grpc.ChannelCredentials | None:
    """TLS (or mTLS) credentials for the channels to the services, None for plaintext.
    Bad files stop start-up with ``ConfigError`` naming the variable."""
    if not settings.tls:
        return None
    return tls.channel_credentials(settings.tls_ca_file, settings.tls_client_cert_file, settings.tls_client_key_file)


def status_of(exc: BaseException) -> grpc.StatusCode | None:
    return exc.code() if isinstance(exc, aio.AioRpcError) else None


def field_of(exc: aio.AioRpcError) -> tuple[str, str]:
    """INVALID_ARGUMENT details are ``field: message`` (alongside.kit.errors.InvalidArgument)."""
    details = exc.details() or ""
    field, sep, message = details.partition(": ")
    return (field, message) if sep else ("", details)
