"""Read-side use cases: peers, match requests, matches, the waiting list."""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit import paging
from alongside.kit.errors import InvalidArgument, NotFound
from alongside.kit.ids import check_id, is_id
from alongside.kit.replies import ReplyBudget
from alongside.matcher.service.context import Context

DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_NAME_SEARCH = 64
PEERS, WAITLIST = "peers", "waitlist"  # the lists page tokens are issued for


def page_size(requested: int) -> int:
    if requested < 0 or requested > MAX_PAGE:
        raise InvalidArgument("page_size", f"must be between 0 and {MAX_PAGE}")
    return requested or DEFAULT_PAGE


class Queries:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def peer(self, peer_id: str) -> pb.Peer:
        peer = await self.ctx.store.peer(check_id("peer_id", peer_id))
        if peer is None:
            raise NotFound("peer not found")
        (peer.load,) = await self.ctx.store.loads([peer_id])
        return peer

    async def list_peers(self, req: pb.ListPeersRequest) -> pb.ListPeersResponse:
        size = page_size(req.page_size)
        if len(req.name_contains) > MAX_NAME_SEARCH:
            raise InvalidArgument("name_contains", f"must be at most {MAX_NAME_SEARCH} characters")
        out: list[pb.Peer] = []
        after = paging.position(PEERS, req.page_token)
        if after and not is_id(after):
            raise InvalidArgument("page_token", "is not a token this service issued")
        budget, full = ReplyBudget(), False
        while len(out) < size and not full:
            ids = await self.ctx.store.peer_ids(after=after, limit=size * 2)
            if not ids:
                after = ""
                break
            peers = await self.ctx.store.peers(ids)
            loads = await self.ctx.store.loads(ids)
            for peer, load in zip(peers, loads, strict=True):
                if _matches(peer, req):
                    peer.load = load
                    full = not budget.take(peer)
                    if full:  # the page ends before this peer, which opens the next
                        break
                    out.append(peer)
                after = peer.peer_id
                if len(out) == size:
                    break
        more = bool(after) and bool(await self.ctx.store.peer_ids(after=after, limit=1))
        return pb.ListPeersResponse(peers=out, next_page_token=paging.issue(PEERS, after) if more else "")

    async def intake(self, request_id: str) -> pb.MatchRequest:
        found = await self.ctx.store.request_state(check_id("request_id", request_id))
        if found is None:
            raise NotFound("match request not found")
        return found

    async def match(self, match_id: str) -> pb.Match:
        match = await self.ctx.store.match(check_id("match_id", match_id))
        if match is None:
            raise NotFound("match not found")
        return match

    async def waitlist(self, req: pb.ListWaitlistRequest) -> pb.ListWaitlistResponse:
        size = page_size(req.page_size)
        where = paging.position(WAITLIST, req.page_token) or "0"
        if not (where.isascii() and where.isdigit()) or len(where) > 9:
            raise InvalidArgument("page_token", "is not a token this service issued")
        offset = int(where)
        ids = await self.ctx.store.waitlist(offset, size + 1)
        states: list[pb.MatchRequest] = []
        budget, used = ReplyBudget(), 0
        for request_id in ids[:size]:
            found = await self.ctx.store.request(request_id)
            if found is not None:
                if not budget.take(found[1]):
                    break
                states.append(found[1])
            used += 1
        token = paging.issue(WAITLIST, str(offset + used)) if len(ids) > used else ""
        return pb.ListWaitlistResponse(requests=states, next_page_token=token)


def _matches(peer: pb.Peer, req: pb.ListPeersRequest) -> bool:
    return (
        (not req.type or req.type in peer.types)
        and (not req.status or req.status == peer.status)
        and (not req.language or req.language.lower() in peer.languages)
        and (not req.service_area or req.service_area.lower() == peer.service_area)
        and (not req.name_contains or req.name_contains.strip().casefold() in peer.display_name.casefold())
    )
