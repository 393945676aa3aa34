"""The chaos run's reconciliation checks that read the stores back beyond
matches, sessions and inboxes: each peer's load against its active matches,
sessions that overlap for a peer, the audit trail of every acknowledged write,
and the dead-letter stream. Each returns descriptions of what is wrong
(lost, doubled or inconsistent), empty when all holds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

import nats
from nats.js.errors import NotFoundError

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.testing import auth

from ..e2e.api import Api

MATCHER = "/alongside.matcher.v1.MatcherService/"
PAGE = 200  # audit records a page: a long page can outlast the deadline on a busy machine
Retried = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


async def all_sessions(api: Api, peer_id: str, retried: Retried) -> list[spb.Session]:
    """Every session of a peer, through every page."""
    found: list[spb.Session] = []
    token = ""
    while True:
        request = spb.ListSessionsRequest(peer_id=peer_id, page_size=500, page_token=token)
        reply = await retried("scheduler", partial(api.scheduler("manager").ListSessions, request))
        found += reply.sessions
        token = reply.next_page_token
        if not token:
            return found


async def active_matches(api: Api, peer_id: str, retried: Retried) -> list[str]:
    """The peer's active match ids, as the matcher lists its assignments."""
    found: list[str] = []
    token = ""
    while True:
        request = mpb.ListAssignmentsRequest(peer_id=peer_id, page_size=50, page_token=token)
        reply = await retried("matcher", partial(api.matcher("manager").ListAssignments, request))
        found += [a.match_id for a in reply.assignments if a.status == mpb.MATCH_STATUS_ACTIVE]
        token = reply.next_page_token
        if not token:
            return found


async def loads(api: Api, peer_ids: Iterable[str], retried: Retried) -> list[str]:
    """Each peer's load equals the acuity summed over its active matches."""
    wrong = []
    for peer_id in peer_ids:
        get_peer = partial(api.matcher("manager").GetPeer, mpb.GetPeerRequest(peer_id=peer_id))
        peer = (await retried("matcher", get_peer)).peer
        units = 0
        for match_id in await active_matches(api, peer_id, retried):
            get = partial(api.matcher("manager").GetMatch, mpb.GetMatchRequest(match_id=match_id))
            units += (await retried("matcher", get)).match.acuity
        if peer.load != units:
            wrong.append(f"peer {peer_id} load {peer.load} against {units} units of active matches")
    return wrong


def overlapping(sessions: Iterable[spb.Session]) -> list[str]:
    """Booked sessions of one peer that overlap in time (each against the
    latest-ending one before it)."""
    booked = sorted(
        (s for s in sessions if s.status == spb.SESSION_STATUS_BOOKED),
        key=lambda s: s.start.ToDatetime(),
    )
    found, latest = [], None
    for session in booked:
        if latest is not None and session.start.ToDatetime() < latest.end.ToDatetime():
            found.append(f"sessions {latest.session_id} and {session.session_id} of {session.peer_id} overlap")
        if latest is None or session.end.ToDatetime() > latest.end.ToDatetime():
            latest = session
    return found


async def audit_trail(
    address: Callable[[], str], writes: dict[str, set[str]], retried: Retried
) -> tuple[list[str], list[str]]:
    """(missing, problems): an OK record of every acknowledged write (by method
    name and object id), and every record the reader flags (a gap, an
    unreadable or unsigned record, a signature that does not verify)."""
    seen: dict[str, set[str]] = defaultdict(set)
    problems: list[str] = []
    token = ""
    while True:

        async def page(token: str = token) -> audit_pb2.ListAuditRecordsResponse:
            async with auth.channel(address(), role="manager", subject="chaos-auditor") as channel:
                request = audit_pb2.ListAuditRecordsRequest(page_size=PAGE, page_token=token)
                reply: audit_pb2.ListAuditRecordsResponse = await audit_pb2_grpc.AuditServiceStub(
                    channel
                ).ListAuditRecords(request)
                return reply

        reply = await retried("matcher", page)
        for record in reply.records:
            if record.problem:
                problems.append(f"audit: {record.problem}")
            elif record.outcome == "OK" and record.action.startswith(MATCHER):
                for object_id in record.object_id.split(","):
                    seen[record.action.removeprefix(MATCHER)].add(object_id)
        token = reply.next_page_token
        if not token:
            break
    missing = [
        f"audit record of {method} {object_id}"
        for method, objects in writes.items()
        for object_id in sorted(objects - seen[method])
    ]
    return missing, problems


async def dead_letters(nats_url: str, namespace: str) -> list[str]:
    """Messages in the dead-letter stream: the journey gives none a reason to be there."""
    (spec,) = [s for s in CATALOGUE if s.name == "DLQ"]
    nc = await nats.connect(servers=nats_url.split(","))
    try:
        try:
            info = await nc.jetstream(timeout=10).stream_info(stream_name(namespace, spec))
        except NotFoundError:
            return []
        count = info.state.messages
        return [f"{count} dead letters"] if count else []
    finally:
        await nc.close()
