"""The matcher's Redis layout and reads. Writes are queued by use cases
inside a ``UnitOfWork`` transaction, through the ``put_*`` helpers.

Every key shares one hash tag, ``{roster}``: accepting a match touches the
request, the match and the peer's load together, so the whole roster is the
entity that needs atomicity (one slot per programme on Redis Cluster).
Values are the API's own protobuf messages, which are versioned contracts.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

import redis.asyncio as aioredis
from google.protobuf.message import Message
from redis.asyncio.client import Pipeline

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.redis import Keys
from alongside.matcher.adapters.stats_facts import match_fact, request_fact, tags_fact

TAG = "roster"
PROGRESS_TTL_S = 24 * 3600
PROGRESS_MAXLEN = 2000
M = TypeVar("M", bound=Message)
# Statuses with an index of their requests (ListMatchRequests); an erased request leaves them all.
INDEXED_STATUSES = (
    pb.REQUEST_STATUS_SHORTLISTED,
    pb.REQUEST_STATUS_WAITLISTED,
    pb.REQUEST_STATUS_PROPOSED,
    pb.REQUEST_STATUS_MATCHED,
    pb.REQUEST_STATUS_WITHDRAWN,
)
Reader = aioredis.Redis | Pipeline


class MatcherKeys:
    def __init__(self, keys: Keys) -> None:
        self._k = keys

    def _key(self, *rest: str) -> str:
        return self._k.key(TAG, *rest)

    def peer(self, peer_id: str) -> str:
        return self._key("peer", peer_id)

    def load(self, peer_id: str) -> str:
        return self._key("load", peer_id)

    def request(self, request_id: str) -> str:
        return self._key("req", request_id)

    def match(self, match_id: str) -> str:
        return self._key("match", match_id)

    def batch(self, batch_id: str) -> str:
        return self._key("batch", batch_id)

    def batch_progress(self, batch_id: str) -> str:
        return self._key("batch", batch_id, "progress")

    def batch_cancel(self, batch_id: str) -> str:
        return self._key("batch", batch_id, "cancel")

    def by_ref(self, participant_ref: str) -> str:
        """The participant's request ids; the key names a digest, never the reference."""
        return self._key("byref", hashlib.sha256(participant_ref.encode()).hexdigest()[:32])

    def erasure(self, erasure_id: str) -> str:
        return self._key("erasure", erasure_id)

    def requests_in(self, status: int) -> str:
        """The requests in ``status``: members ``request_member``, read in lexical (= time) order."""
        return self._key("reqs", str(status))

    @property
    def lists_indexed(self) -> str:
        """Set once the list indexes hold every request and match (``index_for_lists``)."""
        return self._key("lists-indexed")

    def matches_of(self, peer_id: str) -> str:
        """The peer's match ids, scored by when each was accepted (ms)."""
        return self._key("peer-matches", peer_id)

    @property
    def finished(self) -> str:
        """Requests whose match closed, scored by when (ms): the retention sweep's index."""
        return self._key("finished")

    @property
    def caseload_imported(self) -> str:
        """Pair key (``domain.caseload.pair_key``, a digest) -> the match ImportCaseload made of it."""
        return self._key("caseload-imported")

    @property
    def erasures_pending(self) -> str:
        """Erasures whose stream scrub has not finished, scored by when they were committed."""
        return self._key("erasures-pending")

    def idem_pattern(self, scope: str) -> str:
        return self._key("idem", scope, "*")

    @property
    def peers(self) -> str:
        return self._key("peers")

    @property
    def waitlist(self) -> str:
        return self._key("waitlist")

    @property
    def stats_requests(self) -> str:
        """request id -> the dashboard's compact fact (``stats_facts``)."""
        return self._key("stats", "requests")

    @property
    def stats_tags(self) -> str:
        """request id -> the languages and cultures stated at intake; deleted on erasure."""
        return self._key("stats", "tags")

    @property
    def stats_matches(self) -> str:
        """match id -> when it was accepted, and the peer."""
        return self._key("stats", "matches")

    @property
    def roster_version(self) -> str:
        return self._key("roster-version")

    @property
    def loads_version(self) -> str:
        return self._key("loads-version")


class MatcherStore:
    def __init__(self, r: aioredis.Redis, keys: Keys) -> None:
        self.r = r
        self.k = MatcherKeys(keys)

    async def versions(self) -> tuple[int, int]:
        rv, lv = await self.r.mget([self.k.roster_version, self.k.loads_version])
        return int(rv or 0), int(lv or 0)

    async def peer(self, peer_id: str, via: Reader | None = None) -> pb.Peer | None:
        raw = await (via or self.r).get(self.k.peer(peer_id))
        return _parse(pb.Peer, raw)

    async def peer_ids(self, after: str = "", limit: int = -1) -> list[str]:
        low = f"({after}" if after else "-"
        ids = await self.r.zrangebylex(self.k.peers, low, "+", 0 if limit >= 0 else None, limit if limit >= 0 else None)
        return [i.decode() for i in ids]  # type: ignore[union-attr]

    async def peers(self, ids: list[str]) -> list[pb.Peer]:
        if not ids:
            return []
        raws = await self.r.mget([self.k.peer(i) for i in ids])
        return [p for p in (_parse(pb.Peer, raw) for raw in raws) if p is not None]

    async def peers_by_id(self, ids: list[str], via: Reader | None = None) -> dict[str, pb.Peer]:
        if not ids:
            return {}
        raws = await (via or self.r).mget([self.k.peer(i) for i in ids])
        found = (_parse(pb.Peer, raw) for raw in raws)
        return {p.peer_id: p for p in found if p is not None}

    async def loads(self, ids: list[str], via: Reader | None = None) -> list[int]:
        if not ids:
            return []
        raws = await (via or self.r).mget([self.k.load(i) for i in ids])
        return [int(raw or 0) for raw in raws]

    async def request(
        self, request_id: str, via: Reader | None = None
    ) -> tuple[pb.SubmitMatchRequestRequest, pb.MatchRequest] | None:
        raw = await (via or self.r).hmget(self.k.request(request_id), ["input", "state"])
        if raw[0] is None or raw[1] is None:
            return None
        submitted, state = _parse(pb.SubmitMatchRequestRequest, raw[0]), _parse(pb.MatchRequest, raw[1])
        assert submitted is not None and state is not None
        return submitted, state

    async def imported_pairs(self, pairs: list[str], via: Reader | None = None) -> frozenset[str]:
        """Which of the pair keys an earlier ImportCaseload brought in."""
        if not pairs:
            return frozenset()
        found = await (via or self.r).hmget(self.k.caseload_imported, pairs)
        return frozenset(pair for pair, match_id in zip(pairs, found, strict=True) if match_id is not None)

    async def request_state(self, request_id: str) -> pb.MatchRequest | None:
        """The request's state alone: also an erased request's tombstone."""
        return _parse(pb.MatchRequest, await self.r.hget(self.k.request(request_id), "state"))

    async def consent_revoked_ms(self, request_id: str, via: Reader | None = None) -> int | None:
        """When the request's consent was revoked (ms since the epoch), None if it stands."""
        raw = await (via or self.r).hget(self.k.request(request_id), "consent_revoked")
        return None if raw is None else int(raw)

    async def match(self, match_id: str, via: Reader | None = None) -> pb.Match | None:
        return _parse(pb.Match, await (via or self.r).get(self.k.match(match_id)))

    async def batch(self, batch_id: str, via: Reader | None = None) -> pb.BatchRun | None:
        return _parse(pb.BatchRun, await (via or self.r).get(self.k.batch(batch_id)))

    async def progress_after(self, batch_id: str, cursor: str, block_ms: int) -> list[tuple[str, pb.BatchProgress]]:
        """A batch's progress events after ``cursor`` (a stream entry id), waiting up to ``block_ms``."""
        reply: Any = await self.r.xread({self.k.batch_progress(batch_id): cursor}, count=100, block=block_ms)
        out = []
        for _, entries in reply or []:
            for entry, fields in entries:
                event = pb.BatchProgress()
                event.ParseFromString(fields[b"p"])
                out.append((_text(entry), event))
        return out

    async def has_progress(self, batch_id: str) -> bool:
        return bool(await self.r.exists(self.k.batch_progress(batch_id)))

    async def last_progress(self, batch_id: str) -> pb.BatchProgress | None:
        reply: Any = await self.r.xrevrange(self.k.batch_progress(batch_id), count=1)
        return _parse(pb.BatchProgress, reply[0][1][b"p"]) if reply else None

    async def cancel_requested(self, batch_id: str) -> bool:
        return bool(await self.r.exists(self.k.batch_cancel(batch_id)))

    async def request_ids_of(self, participant_ref: str, via: Reader | None = None) -> list[str]:
        ids = await (via or self.r).smembers(self.k.by_ref(participant_ref))
        return sorted(_text(i) for i in ids)

    async def erasure(self, erasure_id: str, via: Reader | None = None) -> pb.Erasure | None:
        return _parse(pb.Erasure, await (via or self.r).get(self.k.erasure(erasure_id)))

    async def finished_before(self, until_ms: int) -> list[str]:
        """Requests whose match closed by ``until_ms`` (ids only, oldest first)."""
        ids = await self.r.zrangebyscore(self.k.finished, "-inf", until_ms)
        return [_text(i) for i in ids]

    async def requests_in(self, status: int, after: str, limit: int) -> list[str]:
        """Up to ``limit`` members of the status's index after ``after`` (oldest first)."""
        low = f"({after}" if after else "-"
        found = await self.r.zrangebylex(self.k.requests_in(status), low, "+", 0, limit)
        return [_text(i) for i in found]

    async def requests(self, ids: list[str]) -> list[tuple[pb.SubmitMatchRequestRequest, pb.MatchRequest] | None]:
        """``request`` for each id, in one round trip."""
        if not ids:
            return []
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.hmget(self.k.request(i), ["input", "state"])
        out: list[tuple[pb.SubmitMatchRequestRequest, pb.MatchRequest] | None] = []
        for raw in await pipe.execute():
            submitted, state = _parse(pb.SubmitMatchRequestRequest, raw[0]), _parse(pb.MatchRequest, raw[1])
            out.append(None if submitted is None or state is None else (submitted, state))
        return out

    async def match_ids_of(self, peer_id: str, offset: int, limit: int) -> list[str]:
        """The peer's match ids, newest accepted first."""
        # ZRANGE ... REV: the services' ACL allows ZRANGE, not the older ZREVRANGE.
        found = await self.r.execute_command("ZRANGE", self.k.matches_of(peer_id), offset, offset + limit - 1, "REV")
        return [_text(i) for i in found]

    async def matches(self, ids: list[str]) -> list[pb.Match | None]:
        if not ids:
            return []
        return [_parse(pb.Match, raw) for raw in await self.r.mget([self.k.match(i) for i in ids])]

    async def index_for_lists(self, batch: int = 500) -> int:
        """Put the requests and matches written before the list indexes existed
        into them, once (then ``lists_indexed`` is set). Safe beside live
        writes: a stale entry is dropped on read, since the lists check each
        request's status and each match's peer again. Returns entries added."""
        if await self.r.exists(self.k.lists_indexed):
            return 0
        added = 0
        for pattern, index in ((self.k.request("*"), self._index_requests), (self.k.match("*"), self._index_matches)):
            keys: list[Any] = []
            async for key in self.r.scan_iter(match=pattern, count=batch):
                keys.append(key)
                if len(keys) >= batch:
                    added += await index(keys)
                    keys = []
            added += await index(keys)
        await self.r.set(self.k.lists_indexed, "1")
        return added

    async def _index_requests(self, keys: list[Any]) -> int:
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, ["state", "erased"])
        adds = self.r.pipeline(transaction=False)
        for raw, erased in await pipe.execute():
            state = _parse(pb.MatchRequest, raw)
            if state is not None and erased is None and state.status in INDEXED_STATUSES:
                adds.zadd(self.k.requests_in(state.status), {request_member(state, state.request_id): 0})
        return sum(await adds.execute())

    async def _index_matches(self, keys: list[Any]) -> int:
        if not keys:
            return 0
        adds = self.r.pipeline(transaction=False)
        for raw in await self.r.mget(keys):
            match = _parse(pb.Match, raw)
            if match is not None and match.peer_id:
                adds.zadd(self.k.matches_of(match.peer_id), {match.match_id: match.accepted_at.ToMilliseconds()})
        return sum(await adds.execute())

    async def waitlist(self, offset: int = 0, limit: int = -1) -> list[str]:
        end = -1 if limit < 0 else offset + limit - 1
        return [i.decode() for i in await self.r.zrange(self.k.waitlist, offset, end)]  # type: ignore[union-attr]

    # Writes, queued on a pipeline inside MULTI.

    def put_peer(self, pipe: Pipeline, peer: pb.Peer) -> None:
        pipe.set(self.k.peer(peer.peer_id), peer.SerializeToString(deterministic=True))
        pipe.zadd(self.k.peers, {peer.peer_id: 0})
        pipe.incr(self.k.roster_version)

    def put_request(
        self,
        pipe: Pipeline,
        request_id: str,
        state: pb.MatchRequest,
        submitted: pb.SubmitMatchRequestRequest | None = None,
    ) -> None:
        fields: dict[Any, Any] = {"state": state.SerializeToString(deterministic=True)}
        if submitted is not None:
            fields["input"] = submitted.SerializeToString(deterministic=True)
            pipe.sadd(self.k.by_ref(submitted.participant.participant_ref), request_id)
            pipe.hset(self.k.stats_tags, request_id, tags_fact(submitted))
        pipe.hset(self.k.request(request_id), mapping=fields)
        pipe.hset(self.k.stats_requests, request_id, request_fact(state))
        member = request_member(state, request_id)
        for status in INDEXED_STATUSES:
            if status == state.status:
                pipe.zadd(self.k.requests_in(status), {member: 0})
            else:
                pipe.zrem(self.k.requests_in(status), member)

    def put_imported(
        self,
        pipe: Pipeline,
        pair: str,
        match: pb.Match,
        state: pb.MatchRequest,
        submitted: pb.SubmitMatchRequestRequest,
    ) -> None:
        """An imported match and the request record that holds its participant
        (so erasure and retention find it by reference). The request is no
        intake: it joins neither the status lists nor the dashboard's intakes."""
        self.put_match(pipe, match)
        fields: dict[Any, Any] = {
            "state": state.SerializeToString(deterministic=True),
            "input": submitted.SerializeToString(deterministic=True),
        }
        pipe.hset(self.k.request(state.request_id), mapping=fields)
        pipe.sadd(self.k.by_ref(submitted.participant.participant_ref), state.request_id)
        pipe.hset(self.k.caseload_imported, pair, match.match_id)

    def put_finished(self, pipe: Pipeline, request_id: str, at_ms: int) -> None:
        pipe.zadd(self.k.finished, {request_id: at_ms})

    def put_erased_request(self, pipe: Pipeline, tombstone: pb.MatchRequest, erasure_id: str) -> None:
        """Replace the whole request (its input, shortlist texts, consent) by ids and dates."""
        key = self.k.request(tombstone.request_id)
        pipe.delete(key)
        pipe.hset(key, mapping={"state": tombstone.SerializeToString(deterministic=True), "erased": erasure_id})
        pipe.zrem(self.k.waitlist, tombstone.request_id)
        pipe.zrem(self.k.finished, tombstone.request_id)
        pipe.hset(self.k.stats_requests, tombstone.request_id, request_fact(tombstone))
        pipe.hdel(self.k.stats_tags, tombstone.request_id)
        for status in INDEXED_STATUSES:
            pipe.zrem(self.k.requests_in(status), request_member(tombstone, tombstone.request_id))

    def put_erasure(self, pipe: Pipeline, erasure: pb.Erasure) -> None:
        pipe.set(self.k.erasure(erasure.erasure_id), erasure.SerializeToString(deterministic=True))

    def put_consent_revoked(self, pipe: Pipeline, request_id: str, at_ms: int) -> None:
        pipe.hset(self.k.request(request_id), "consent_revoked", str(at_ms))

    def put_match(self, pipe: Pipeline, match: pb.Match) -> None:
        pipe.set(self.k.match(match.match_id), match.SerializeToString(deterministic=True))
        if not match.imported:  # the dashboard's time to match: an imported match had no intake here
            pipe.hset(self.k.stats_matches, match.match_id, match_fact(match))
        pipe.zadd(self.k.matches_of(match.peer_id), {match.match_id: match.accepted_at.ToMilliseconds()})

    def put_batch(self, pipe: Pipeline, run: pb.BatchRun) -> None:
        pipe.set(self.k.batch(run.batch_id), run.SerializeToString(deterministic=True), ex=30 * 24 * 3600)

    def put_progress(self, pipe: Reader, event: pb.BatchProgress) -> None:
        """Append to the batch's progress stream (kept a day after its last event)."""
        key = self.k.batch_progress(event.batch_id)
        pipe.xadd(key, {"p": event.SerializeToString(deterministic=True)}, maxlen=PROGRESS_MAXLEN, approximate=True)
        pipe.expire(key, PROGRESS_TTL_S)

    def request_cancel(self, pipe: Pipeline, batch_id: str) -> None:
        """Flag a running batch for its replica to stop (``Batch._cancel_heard``)."""
        pipe.set(self.k.batch_cancel(batch_id), b"1", ex=PROGRESS_TTL_S)

    def add_load(self, pipe: Pipeline, peer_id: str, units: int) -> None:
        pipe.incrby(self.k.load(peer_id), units)
        pipe.incr(self.k.loads_version)

    def set_waitlisted(self, pipe: Pipeline, state: pb.MatchRequest) -> None:
        """Keep the waiting list in priority order: urgency first, then time waited."""
        if state.status == pb.REQUEST_STATUS_WAITLISTED:
            created_ms = state.created_at.ToMilliseconds()
            pipe.zadd(self.k.waitlist, {state.request_id: -state.urgency * 10**13 + created_ms})
        else:
            pipe.zrem(self.k.waitlist, state.request_id)


def request_member(state: pb.MatchRequest, request_id: str) -> str:
    """A request's member in its status's index: creation time (ms, fixed width), then id."""
    return f"{state.created_at.ToMilliseconds():013d}|{request_id}"


def _parse(kind: type[M], raw: Any) -> M | None:
    if raw is None:
        return None
    message = kind()
    message.ParseFromString(raw)
    return message


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
