"""Reads: FindSlots, GetSession, ListSessions and the peer's ICS feed.

ListSessions pages through per-peer indexes whose members sort by (start,
id). Across peers (by participant, or by time range only) it reads the same
range from every peer's index in one pipelined round trip and merges; a
programme has hundreds of peers, not millions, and this needs no cross-slot
index that could drift from the sessions.
"""

from __future__ import annotations

import base64
import binascii
import heapq

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.errors import InvalidArgument, NotFound
from alongside.scheduler.adapters.codec import decode_series, decode_session, ms
from alongside.scheduler.adapters.group_store import GroupStore
from alongside.scheduler.adapters.keys import peer_of, require_peer_id, require_ref
from alongside.scheduler.domain.booking import EXPLANATIONS, Blocker, diagnose
from alongside.scheduler.domain.ics import render_ics
from alongside.scheduler.domain.slots import find_slots
from alongside.scheduler.entrypoints import mappers
from alongside.scheduler.service.context import Context, require_calendar
from alongside.scheduler.service.rules import slot_query

MAX_PAGE = 500
DEFAULT_PAGE = 50
MAX_SLOTS = 100
FEED_NAME = "Alongside sessions"


class Queries:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def find_slots(self, req: pb.FindSlotsRequest) -> pb.FindSlotsResponse:
        ctx = self.ctx
        peer_id = require_peer_id(req.peer_id)
        duration = mappers.slot_duration_in(req.session_type, req.duration_minutes, ctx.policy)
        participant = mappers.participant_in(req.participant_time_zone, req.participant_availability)
        earliest, horizon_end = mappers.ts_opt(req, "earliest"), mappers.ts_opt(req, "horizon_end")
        if earliest is not None and horizon_end is not None and horizon_end <= earliest:
            raise InvalidArgument("horizon_end", "must be after earliest")
        if not 0 <= req.limit <= MAX_SLOTS:
            raise InvalidArgument("limit", f"must be between 1 and {MAX_SLOTS}")
        now = ctx.clock()
        if horizon_end is not None and horizon_end <= now:
            raise InvalidArgument("horizon_end", "must be in the future")
        calendar = require_calendar(await ctx.store.calendar(peer_id))
        query = await slot_query(ctx, calendar, participant, duration, now, earliest, horizon_end)
        if query is None:
            return pb.FindSlotsResponse(unavailable_reason=EXPLANATIONS[Blocker.OUTSIDE_HORIZON])
        slots = find_slots(query, limit=req.limit or 10)
        response = pb.FindSlotsResponse(
            slots=[mappers.slot_out(s, calendar.tz, req.participant_time_zone or None) for s in slots]
        )
        if not slots:
            response.unavailable_reason = EXPLANATIONS[diagnose(query) or Blocker.CONFLICT]
        return response

    async def get_session(self, req: pb.GetSessionRequest) -> pb.GetSessionResponse:
        peer_id = peer_of(req.session_id)
        raw = await self.ctx.store.session_raw(peer_id, req.session_id)
        if raw is None:
            raise NotFound("session not found")
        calendar = await self.ctx.store.calendar(peer_id)
        return pb.GetSessionResponse(
            session=mappers.session_out(decode_session(raw), calendar.tz if calendar else None)
        )

    async def list_sessions(self, req: pb.ListSessionsRequest) -> pb.ListSessionsResponse:
        store = self.ctx.store
        size = req.page_size or DEFAULT_PAGE
        if not 1 <= size <= MAX_PAGE:
            raise InvalidArgument("page_size", f"must be between 1 and {MAX_PAGE}")
        low, high = _range(req)
        peers = await self._peers(req)
        ref = require_ref(req.participant_ref, "participant_ref") if req.participant_ref else None
        keys = [store.k.by_participant(p, ref) if ref else store.k.idx(p) for p in peers]
        rows = await store.index_page(keys, low, high, size + 1)
        merged = list(heapq.merge(*([(m, p) for m in row] for row, p in zip(rows, peers, strict=True))))
        page, more = merged[:size], len(merged) > size
        sessions = await self._sessions(page)
        token = _token(page[-1][0]) if more and page else ""
        return pb.ListSessionsResponse(sessions=sessions, next_page_token=token)

    async def _peers(self, req: pb.ListSessionsRequest) -> list[str]:
        """One peer, or every peer: each peer's own index answers for a participant."""
        if req.peer_id:
            return [require_peer_id(req.peer_id)]
        return await self.ctx.store.members(self.ctx.store.k.peers)

    async def _sessions(self, page: list[tuple[str, str]]) -> list[pb.Session]:
        by_peer: dict[str, list[str]] = {}
        for member, peer_id in page:
            by_peer.setdefault(peer_id, []).append(member.split("|", 1)[1])
        calendars = await self.ctx.store.calendars(list(by_peer))
        found: dict[str, pb.Session] = {}
        for peer_id, ids in by_peer.items():
            tz = calendars[peer_id].tz if peer_id in calendars else None
            for raw in await self.ctx.store.sessions_raw(peer_id, ids):
                if raw is not None:
                    session = decode_session(raw)
                    found[session.id] = mappers.session_out(session, tz or None)
        return [found[m.split("|", 1)[1]] for m, _ in page if m.split("|", 1)[1] in found]

    async def calendar_feed(self, req: pb.GetCalendarFeedRequest) -> pb.GetCalendarFeedResponse:
        peer_id = require_peer_id(req.peer_id)
        calendar = await self.ctx.store.calendar(peer_id)
        if calendar is None or not calendar.tz:
            raise NotFound("peer calendar not found")
        sessions = [decode_session(raw) for raw in await self.ctx.store.all_sessions_raw(peer_id)]
        series = [decode_series(raw) for raw in await self.ctx.store.all_series_raw(peer_id)]
        groups = [g.series for g in await GroupStore(self.ctx.store).facilitated(peer_id)]
        text = render_ics(calendar.tz, sessions, series, FEED_NAME, self.ctx.clock(), groups)
        return pb.GetCalendarFeedResponse(ics=text)


def _range(req: pb.ListSessionsRequest) -> tuple[str, str]:
    """The lex range of index members: the page token or start, up to end."""
    start, end = mappers.ts_opt(req, "start"), mappers.ts_opt(req, "end")
    if start is not None and end is not None and end <= start:
        raise InvalidArgument("end", "must be after start")
    high = f"({ms(end):013d}" if end else "+"
    if req.page_token:
        return "(" + _untoken(req.page_token), high
    return (f"[{ms(start):013d}" if start else "-"), high


def _token(member: str) -> str:
    return base64.urlsafe_b64encode(member.encode()).decode()


def _untoken(token: str) -> str:
    try:
        member = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidArgument("page_token", "is not a token this service issued") from None
    stamp, sep, session_id = member.partition("|")
    if not sep or len(stamp) != 13 or not stamp.isdigit() or not session_id:
        raise InvalidArgument("page_token", "is not a token this service issued")
    return member
