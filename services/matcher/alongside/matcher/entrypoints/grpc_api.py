"""gRPC servicer for the matcher: thin, each RPC one use case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.auth.policy import current_identity, require_own
from alongside.matcher.policy_mappers import policy_out
from alongside.matcher.service.batch import Batch
from alongside.matcher.service.caseload import Caseload
from alongside.matcher.service.disclosure import Disclosure
from alongside.matcher.service.erasure import Erasures
from alongside.matcher.service.groups import Groups
from alongside.matcher.service.intake import Intake, Rematch
from alongside.matcher.service.queries import Queries
from alongside.matcher.service.request_list import RequestList
from alongside.matcher.service.roster import Roster
from alongside.matcher.service.stats import ProgrammeStatsQuery

Ctx = Any  # grpc.aio.ServicerContext; errors are mapped by the kit's interceptor


class MatcherServicer(matcher_pb2_grpc.MatcherServiceServicer):
    def __init__(
        self,
        roster: Roster,
        intake: Intake,
        queries: Queries,
        batch: Batch,
        rematch: Rematch,
        consent: Disclosure,
        erasures: Erasures,
        stats: ProgrammeStatsQuery,
        groups: Groups,
    ) -> None:
        self.roster, self.intake, self.queries, self.batch, self.rematch = roster, intake, queries, batch, rematch
        self.consent, self.erasures, self.stats = consent, erasures, stats
        self.requests = RequestList(queries.ctx)
        self.caseload = Caseload(roster.ctx)
        self.groups = groups

    async def UpsertPeer(self, request: pb.UpsertPeerRequest, context: Ctx) -> pb.UpsertPeerResponse:
        reply = await self.roster.upsert(request)
        self.rematch.wakeup.set()
        return reply

    async def GetPeer(self, request: pb.GetPeerRequest, context: Ctx) -> pb.GetPeerResponse:
        require_own(request.peer_id, "roster entry")
        return pb.GetPeerResponse(peer=await self.queries.peer(request.peer_id))

    async def ListPeers(self, request: pb.ListPeersRequest, context: Ctx) -> pb.ListPeersResponse:
        return await self.queries.list_peers(request)

    async def SetPeerStatus(self, request: pb.SetPeerStatusRequest, context: Ctx) -> pb.SetPeerStatusResponse:
        reply = await self.roster.set_status(request)
        self.rematch.wakeup.set()
        return reply

    async def ImportRoster(self, request: pb.ImportRosterRequest, context: Ctx) -> pb.ImportRosterResponse:
        reply = await self.roster.import_roster(request)
        self.rematch.wakeup.set()
        return reply

    async def SubmitMatchRequest(
        self, request: pb.SubmitMatchRequestRequest, context: Ctx
    ) -> pb.SubmitMatchRequestResponse:
        return await self.intake.submit(request)

    async def GetIntake(self, request: pb.GetIntakeRequest, context: Ctx) -> pb.GetIntakeResponse:
        return pb.GetIntakeResponse(request=await self.queries.intake(request.request_id))

    async def AcceptMatch(self, request: pb.AcceptMatchRequest, context: Ctx) -> pb.AcceptMatchResponse:
        return await self.intake.accept(request)

    async def DeclineMatch(self, request: pb.DeclineMatchRequest, context: Ctx) -> pb.DeclineMatchResponse:
        return await self.intake.decline(request)

    async def CloseMatch(self, request: pb.CloseMatchRequest, context: Ctx) -> pb.CloseMatchResponse:
        reply = await self.intake.close(request)
        self.rematch.wakeup.set()
        return reply

    async def GetMatch(self, request: pb.GetMatchRequest, context: Ctx) -> pb.GetMatchResponse:
        match = await self.queries.match(request.match_id)
        require_own(match.peer_id, "matches")
        return pb.GetMatchResponse(match=match)

    async def ListWaitlist(self, request: pb.ListWaitlistRequest, context: Ctx) -> pb.ListWaitlistResponse:
        return await self.queries.waitlist(request)

    async def ListMatchRequests(
        self, request: pb.ListMatchRequestsRequest, context: Ctx
    ) -> pb.ListMatchRequestsResponse:
        return await self.requests.find(request)

    async def ListAssignments(self, request: pb.ListAssignmentsRequest, context: Ctx) -> pb.ListAssignmentsResponse:
        # A peer lists only their own: checked inside, before anything is read.
        return await self.consent.assignments(request)

    async def GetAssignment(self, request: pb.GetAssignmentRequest, context: Ctx) -> pb.GetAssignmentResponse:
        # The own-match rule is applied inside, once the match's peer is known.
        return pb.GetAssignmentResponse(assignment=await self.consent.assignment(request.match_id))

    async def RevokeConsent(self, request: pb.RevokeConsentRequest, context: Ctx) -> pb.RevokeConsentResponse:
        return await self.consent.revoke(request)

    async def RunBatchMatch(self, request: pb.RunBatchMatchRequest, context: Ctx) -> pb.RunBatchMatchResponse:
        return await self.batch.run(request, context.time_remaining())

    async def ConfirmBatch(self, request: pb.ConfirmBatchRequest, context: Ctx) -> pb.ConfirmBatchResponse:
        return await self.batch.confirm(request, context.time_remaining())

    async def StartBatchMatch(self, request: pb.StartBatchMatchRequest, context: Ctx) -> pb.StartBatchMatchResponse:
        return await self.batch.start(request)

    async def WatchBatchMatch(
        self, request: pb.WatchBatchMatchRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchBatchMatchResponse]:
        async for event in self.batch.watch(request.batch_id):
            yield pb.WatchBatchMatchResponse(progress=event)

    async def CancelBatchMatch(self, request: pb.CancelBatchMatchRequest, context: Ctx) -> pb.CancelBatchMatchResponse:
        return await self.batch.cancel(request)

    async def EraseParticipant(self, request: pb.EraseParticipantRequest, context: Ctx) -> pb.EraseParticipantResponse:
        return await self.erasures.erase(request, requested_by=current_identity().subject)

    async def GetErasure(self, request: pb.GetErasureRequest, context: Ctx) -> pb.GetErasureResponse:
        return pb.GetErasureResponse(erasure=await self.erasures.get(request.erasure_id))

    async def GetProgrammeStats(
        self, request: pb.GetProgrammeStatsRequest, context: Ctx
    ) -> pb.GetProgrammeStatsResponse:
        return await self.stats.get(request)

    async def GetPolicy(self, request: pb.GetPolicyRequest, context: Ctx) -> pb.GetPolicyResponse:
        return pb.GetPolicyResponse(policy=policy_out(self.queries.ctx.policy))

    async def ImportCaseload(self, request: pb.ImportCaseloadRequest, context: Ctx) -> pb.ImportCaseloadResponse:
        return await self.caseload.import_caseload(request)

    # Community groups (docs/matcher.md, "Community groups").

    async def UpsertGroup(self, request: pb.UpsertGroupRequest, context: Ctx) -> pb.UpsertGroupResponse:
        return await self.groups.upsert(request)

    async def GetGroup(self, request: pb.GetGroupRequest, context: Ctx) -> pb.GetGroupResponse:
        return pb.GetGroupResponse(group=await self.groups.get(request.group_id))

    async def ListGroups(self, request: pb.ListGroupsRequest, context: Ctx) -> pb.ListGroupsResponse:
        return await self.groups.list(request)

    async def ImportGroups(self, request: pb.ImportGroupsRequest, context: Ctx) -> pb.ImportGroupsResponse:
        return await self.groups.import_groups(request)
