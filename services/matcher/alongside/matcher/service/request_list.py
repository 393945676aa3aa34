"""ListMatchRequests: match requests by status, filtered and searched.

Requests live in one index per status (``MatcherStore.requests_in``), in
creation order; the list reads the asked statuses' indexes merged, oldest
first, and filters in memory. Each call looks at no more than ``SCAN``
requests, so a filter that keeps few may answer a short (even empty) page
with a token to go on: the work per call is bounded, whatever the filters.

An exact participant reference reads that participant's requests alone
(the store keeps them under a digest of the reference); a prefix scans like
the filters. The reference is compared, never returned: replies carry
request ids, and the audit record names them (``audit.name_objects``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit import audit, paging
from alongside.kit.errors import InvalidArgument
from alongside.kit.ids import check_id
from alongside.matcher.adapters.store import INDEXED_STATUSES, request_member
from alongside.matcher.service.context import Context

DEFAULT_PAGE, MAX_PAGE = 50, 100
SCAN = 500  # requests looked at per call, at most
MAX_DAYS = 3650
OPEN = (pb.REQUEST_STATUS_SHORTLISTED, pb.REQUEST_STATUS_WAITLISTED, pb.REQUEST_STATUS_PROPOSED)
LIST = "requests"  # the list page tokens are issued for
_POSITION = re.compile(r"\d{13}\|[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
Found = tuple[pb.SubmitMatchRequestRequest, pb.MatchRequest]


def checked(req: pb.ListMatchRequestsRequest) -> tuple[int, tuple[int, ...], str]:
    """(page size, statuses, position) of a valid request; INVALID_ARGUMENT naming the field otherwise."""
    if not 0 <= req.page_size <= MAX_PAGE:
        raise InvalidArgument("page_size", f"must be between 0 and {MAX_PAGE}")
    if len(req.statuses) > len(INDEXED_STATUSES):
        raise InvalidArgument("statuses", f"at most {len(INDEXED_STATUSES)}")
    for status in req.statuses:
        if status not in INDEXED_STATUSES:
            raise InvalidArgument("statuses", "must be shortlisted, waitlisted, proposed, matched or withdrawn")
    for name, value, kind in (
        ("urgency", req.urgency, pb.Urgency),
        ("peer_type", req.peer_type, pb.PeerType),
        ("age_band", req.age_band, pb.AgeBand),
    ):
        if value not in kind.values():
            raise InvalidArgument(name, "is not a known value")
    if not 0 <= req.min_days_waiting <= MAX_DAYS:
        raise InvalidArgument("min_days_waiting", f"must be between 0 and {MAX_DAYS}")
    check_id("participant_ref", req.participant_ref, optional=True)
    if req.ref_prefix and not req.participant_ref:
        raise InvalidArgument("participant_ref", "is required with ref_prefix")
    position = paging.position(LIST, req.page_token)
    if position and not _POSITION.fullmatch(position):
        raise InvalidArgument("page_token", "is not a token this service issued")
    return req.page_size or DEFAULT_PAGE, tuple(sorted(set(req.statuses))) or OPEN, position


class RequestList:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def find(self, req: pb.ListMatchRequestsRequest) -> pb.ListMatchRequestsResponse:
        size, statuses, after = checked(req)
        keep = _filter(req, statuses, self.ctx.clock())
        if req.participant_ref and not req.ref_prefix:
            members, more = await self._of_participant(req.participant_ref, after)
        else:
            members, more = await self._merged(statuses, after)
        out: list[pb.MatchRequestSummary] = []
        position = ""
        found = await self.ctx.store.requests([m.partition("|")[2] for m in members])
        for member, one in zip(members, found, strict=True):
            if len(out) == size:
                more = True
                break
            position = member
            if one is not None and keep(one):
                out.append(summary(*one))
        audit.name_objects(s.request_id for s in out)
        token = paging.issue(LIST, position) if more and position else ""
        return pb.ListMatchRequestsResponse(requests=out, next_page_token=token)

    async def _merged(self, statuses: tuple[int, ...], after: str) -> tuple[list[str], bool]:
        """The next ``SCAN`` members of the statuses' indexes after ``after``, in order,
        and whether any index goes on beyond them."""
        merged: list[str] = []
        truncated = False
        for status in statuses:
            got = await self.ctx.store.requests_in(status, after, SCAN)
            truncated = truncated or len(got) == SCAN
            merged.extend(got)
        merged.sort()
        return merged[:SCAN], truncated or len(merged) > SCAN

    async def _of_participant(self, ref: str, after: str) -> tuple[list[str], bool]:
        ids = await self.ctx.store.request_ids_of(ref)
        states = await self.ctx.store.requests(ids[:SCAN])
        members = sorted(request_member(s[1], s[1].request_id) for s in states if s is not None)
        return [m for m in members if m > after], False


def summary(submitted: pb.SubmitMatchRequestRequest, state: pb.MatchRequest) -> pb.MatchRequestSummary:
    found = pb.MatchRequestSummary(
        request_id=state.request_id,
        status=state.status,
        urgency=state.urgency,
        created_at=state.created_at,
        peer_types=submitted.peer_types,
        age_band=submitted.participant.age_band,
        candidate_count=len(state.candidates),
        match_id=state.match_id,
    )
    if state.HasField("hold_expires_at"):
        found.hold_expires_at.CopyFrom(state.hold_expires_at)
    return found


def _filter(req: pb.ListMatchRequestsRequest, statuses: tuple[int, ...], now: datetime) -> Callable[[Found], bool]:
    latest = (now - timedelta(days=req.min_days_waiting)) if req.min_days_waiting else None

    def keep(found: Found) -> bool:
        submitted, state = found
        ref = submitted.participant.participant_ref
        return (
            state.status in statuses
            and (not req.urgency or state.urgency == req.urgency)
            and (not req.peer_type or req.peer_type in submitted.peer_types)
            and (not req.age_band or submitted.participant.age_band == req.age_band)
            and (latest is None or state.created_at.ToDatetime(tzinfo=latest.tzinfo) <= latest)
            and (
                not req.participant_ref
                or (ref.startswith(req.participant_ref) if req.ref_prefix else ref == req.participant_ref)
            )
        )

    return keep
