"""Consent use cases: the peer's view of an assignment, and revocation.

GetAssignment discloses participant details only under active consent
(``domain.disclosure.decide``); RevokeConsent marks the request's consent
revoked and emits ``match.consent_revoked`` in the same transaction, so the
notifier stops telling the peer about this participant.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alongside.api.matcher.v1 import events_pb2 as ev
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit import audit, paging, protoconv
from alongside.kit.auth.policy import require_own
from alongside.kit.errors import InvalidArgument, NotFound
from alongside.kit.ids import check_id
from alongside.kit.uow import Tx
from alongside.matcher.domain.disclosure import NOTICE, ConsentFacts, decide
from alongside.matcher.service.context import Context, emit, idem, parse_reply

DEFAULT_ASSIGNMENTS, MAX_ASSIGNMENTS = 20, 50
ASSIGNMENT_SCAN = 200  # matches looked at per call, at most
ASSIGNMENTS = "assignments"  # the list page tokens are issued for


def consent_facts(consent: pb.Consent, revoked_ms: int | None) -> ConsentFacts:
    expires = protoconv.timestamp("consent.expires_at", consent.expires_at) if consent.HasField("expires_at") else None
    revoked = None if revoked_ms is None else datetime.fromtimestamp(revoked_ms / 1000, UTC)
    return ConsentFacts(consent.ByteSize() > 0, tuple(consent.recipients), expires, revoked)


def participant_view(submitted: pb.SubmitMatchRequestRequest) -> pb.ParticipantView:
    """Only what a peer needs to meet and support the participant: no
    pathways, lived experience, culture, gender or service area."""
    p, prefs = submitted.participant, submitted.preferences
    return pb.ParticipantView(
        participant_ref=p.participant_ref,
        age_band=p.age_band,
        time_zone=p.time_zone,
        availability=p.availability,
        interpreter_needed=p.interpreter_needed,
        languages=prefs.languages.values,
        modalities=prefs.modalities.values,
        session_minutes=submitted.session_minutes or 60,
    )


class Disclosure:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def assignment(self, match_id: str) -> pb.Assignment:
        store = self.ctx.store
        match = await store.match(check_id("match_id", match_id))
        if match is None:
            raise NotFound("match not found")
        require_own(match.peer_id, "assignments")
        return await self._view(match)

    async def _view(self, match: pb.Match) -> pb.Assignment:
        """The assignment as its peer may see it: details only under active consent."""
        store = self.ctx.store
        view = pb.Assignment(match_id=match.match_id, status=match.status, accepted_at=match.accepted_at)
        found = await store.request(match.request_id)
        submitted = found[0] if found else pb.SubmitMatchRequestRequest()
        facts = consent_facts(submitted.consent, await store.consent_revoked_ms(match.request_id))
        decision = decide(facts, self.ctx.clock())
        view.disclosed, view.reason = decision.disclosed, decision.reason
        if decision.disclosed:
            view.participant.CopyFrom(participant_view(submitted))
            view.notice = NOTICE
        return view

    async def assignments(self, req: pb.ListAssignmentsRequest) -> pb.ListAssignmentsResponse:
        """A peer's assignments, newest first (a peer lists only their own). Each
        call looks at no more than ``ASSIGNMENT_SCAN`` matches; the audit record
        names the matches listed."""
        require_own(check_id("peer_id", req.peer_id), "assignments")
        if not 0 <= req.page_size <= MAX_ASSIGNMENTS:
            raise InvalidArgument("page_size", f"must be between 0 and {MAX_ASSIGNMENTS}")
        size = req.page_size or DEFAULT_ASSIGNMENTS
        where = paging.position(ASSIGNMENTS, req.page_token) or "0"
        if not (where.isascii() and where.isdigit()) or len(where) > 9:
            raise InvalidArgument("page_token", "is not a token this service issued")
        offset = int(where)
        ids = await self.ctx.store.match_ids_of(req.peer_id, offset, ASSIGNMENT_SCAN + 1)
        out: list[pb.Assignment] = []
        looked = 0
        for match in await self.ctx.store.matches(ids[:ASSIGNMENT_SCAN]):
            if len(out) == size:
                break
            looked += 1
            if match is None or match.peer_id != req.peer_id:
                continue
            if req.include_closed or match.status == pb.MATCH_STATUS_ACTIVE:
                out.append(await self._view(match))
        audit.name_objects(a.match_id for a in out)
        more = len(ids) > looked
        token = paging.issue(ASSIGNMENTS, str(offset + looked)) if more else ""
        return pb.ListAssignmentsResponse(assignments=out, next_page_token=token)

    async def revoke(self, req: pb.RevokeConsentRequest) -> pb.RevokeConsentResponse:
        key = idem("RevokeConsent", req.idempotency_key, req)
        check_id("request_id", req.request_id)

        async def body(tx: Tx) -> bytes:
            store = self.ctx.store
            await tx.watch(store.k.request(req.request_id))
            found = await store.request(req.request_id, via=tx.pipe)
            if found is None:
                raise NotFound("match request not found")
            state = found[1]
            reply = pb.RevokeConsentResponse(request_id=req.request_id, match_id=state.match_id)
            already = await store.consent_revoked_ms(req.request_id, via=tx.pipe)
            if already is not None:  # revoked before, under another key: nothing new to say
                reply.revoked_at.FromMilliseconds(already)
                return reply.SerializeToString()
            reply.revoked_at.FromDatetime(self.ctx.clock())
            match = await store.match(state.match_id, via=tx.pipe) if state.match_id else None
            tx.begin()
            store.put_consent_revoked(tx.pipe, req.request_id, reply.revoked_at.ToMilliseconds())
            revoked = ev.ConsentRevoked(
                request_id=req.request_id,
                match_id=state.match_id,
                peer_id=match.peer_id if match else "",
                revoked_at=reply.revoked_at,
            )
            emit(tx, "match.consent_revoked", revoked, state.match_id or req.request_id)
            return reply.SerializeToString()

        return parse_reply(pb.RevokeConsentResponse, await self.ctx.uow.run(body, idempotency=key))
