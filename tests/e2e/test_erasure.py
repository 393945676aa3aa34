"""Erasing a participant across the three services, each a separate process.

Canary values are planted in every free-text field of an intake that is
matched, booked, notified and closed. After EraseParticipant every service
confirms; no read path returns the data; no key or value of any service's
Redis namespace and no message of any stream but AUDIT holds a canary; the
audit trail says who erased what and when; and replaying the RPC or the
event duplicates nothing.
"""

from __future__ import annotations

import nats
from nats.js import JetStreamContext

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.testing import auth, leaks
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort, key
from .conftest import Settled, Stack

MANAGER = "staff-manager"  # the subject of Api.matcher("manager")


def stream(stack: Stack, name: str) -> str:
    return stream_name(stack.namespace, next(s for s in CATALOGUE if s.name == name))


async def count(js: JetStreamContext, stack: Stack, name: str, event_type: str) -> int:
    subject = f"{stack.namespace}.{event_type}"
    info = await js.stream_info(stream(stack, name), subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def dead_letter_copy(js: JetStreamContext, stack: Stack, durable: str, event_type: str) -> None:
    subject = f"{stack.namespace}.{event_type}"
    original = await js.get_last_msg(stream(stack, event_type.split(".")[0].upper()), subject)
    headers = {**(original.headers or {}), "Nats-Msg-Id": key(), "alongside-dlq-subject": subject}
    await js.publish(f"{stack.namespace}.dlq.{durable}", original.data or b"", headers=headers)


async def test_a_participant_erased_everywhere_with_every_confirmation(
    api: Api, stack: Stack, settled: Settled, redis_admin_url: str
) -> None:
    cohort = Cohort()
    peer = cohort.peer(1)
    await api.enrol(cohort, peer)
    tag = cohort.tag
    canary = {
        "ref": f"cnryref{tag}",
        "culture": f"cnryculture{tag}",
        "lived": f"cnrylived{tag}",
        "area": f"cnryarea{tag}",
        "scope": f"cnryscope{tag}",
        "form": f"cnryform{tag}",
    }
    ref = f"ref-{tag}-{canary['ref']}"
    preferred = mpb.STRENGTH_PREFERRED
    intake = cohort.intake(
        canary["ref"],
        preferences=cohort.preferences(
            cultures=mpb.Preference(values=[canary["culture"]], strength=preferred),
            lived_experience=mpb.Preference(values=[canary["lived"]], strength=preferred),
        ),
        consent=mpb.Consent(scope=canary["scope"], recipients=["assigned-peer"], form_ref=canary["form"]),
    )
    intake.participant.service_area = canary["area"]
    request = await api.submit(intake)
    match = await api.accept(request.request_id, peer.peer_id)
    session = await api.first_session(peer.peer_id, match.match_id)
    assert session.participant_ref == ref
    await api.told(peer.peer_id, npb.KIND_ASSIGNMENT_NEW, npb.KIND_SESSION_BOOKED)
    close = mpb.CloseMatchRequest(idempotency_key=key(), match_id=match.match_id, reason=mpb.CLOSE_REASON_COMPLETED)
    await api.matcher().CloseMatch(close)
    await settled()

    values = [ref, *canary.values()]
    nc = await nats.connect(stack.nats_url)
    js = nc.jetstream()
    try:
        assert await leaks.stream_leaks(js, stack.namespace, [ref]) != []  # planted where erasure must reach
        # As the kit's consumers leave them when they give up: copies in DLQ.
        for durable, event_type in (("notifier-match", "match.accepted"), ("notifier-session", "session.booked")):
            await dead_letter_copy(js, stack, durable, event_type)

        manager = api.matcher("manager")
        erase = mpb.EraseParticipantRequest(idempotency_key=key(), participant_ref=ref)
        erasure = (await manager.EraseParticipant(erase)).erasure
        assert list(erasure.request_ids) == [request.request_id] and list(erasure.match_ids) == [match.match_id]

        async def confirmed() -> bool:
            got = (await manager.GetErasure(mpb.GetErasureRequest(erasure_id=erasure.erasure_id))).erasure
            return got.complete

        await eventually(confirmed, timeout=30, what="matcher, scheduler and notifier confirmed")
        done = (await manager.GetErasure(mpb.GetErasureRequest(erasure_id=erasure.erasure_id))).erasure
        assert sorted(c.service for c in done.confirmations) == ["matcher", "notifier", "scheduler"]
        await settled()

        # No read path returns the data.
        state = (await api.matcher().GetIntake(mpb.GetIntakeRequest(request_id=request.request_id))).request
        assert state.status == mpb.REQUEST_STATUS_ERASED and not state.candidates
        kept = (await api.matcher().GetMatch(mpb.GetMatchRequest(match_id=match.match_id))).match
        assert kept.participant_ref == "" and kept.peer_id == peer.peer_id
        sessions = [s for s in await api.sessions(peer.peer_id) if s.match_id == match.match_id]
        assert sessions and all(s.participant_ref == "" for s in sessions)
        by_ref = await api.scheduler().ListSessions(spb.ListSessionsRequest(peer_id=peer.peer_id, participant_ref=ref))
        assert list(by_ref.sessions) == []
        inbox = await api.inbox(peer.peer_id)
        assert [n for n in inbox if n.refs.get("match_id") == match.match_id or n.refs.get("session_id")] == []

        # Nothing planted is left in Redis (any service) or in a stream but AUDIT.
        assert await leaks.redis_leaks(redis_admin_url, f"{stack.namespace}:*", values) == []
        assert await leaks.stream_leaks(js, stack.namespace, values) == []

        # Replays duplicate nothing: the RPC under its key, and the event itself re-published.
        again = (await manager.EraseParticipant(erase)).erasure
        assert again.erasure_id == erasure.erasure_id
        erased_subject = f"{stack.namespace}.match.participant_erased"
        original = await js.get_last_msg(stream(stack, "MATCH"), erased_subject)
        headers = {**(original.headers or {}), "Nats-Msg-Id": key(), "ce-id": key()}
        await js.publish(erased_subject, original.data or b"", headers=headers)
        await settled()
        assert await count(js, stack, "MATCH", "match.participant_erased") >= 2
        assert await count(js, stack, "SESSION", "session.erasure_confirmed") == 1
        assert await count(js, stack, "NOTIFICATION", "notification.erasure_confirmed") == 1
        final = (await manager.GetErasure(mpb.GetErasureRequest(erasure_id=erasure.erasure_id))).erasure
        assert list(final.confirmations) == list(done.confirmations)
    finally:
        await nc.drain()

    # The audit trail still says who erased what, and when.
    async with auth.channel(stack.address("matcher"), role="manager", subject="auditor") as chan:
        records = await audit_pb2_grpc.AuditServiceStub(chan).ListAuditRecords(
            audit_pb2.ListAuditRecordsRequest(object_id=erasure.erasure_id)
        )
    erased = [r for r in records.records if r.action.endswith("/EraseParticipant")]
    assert erased and {r.actor for r in erased} == {MANAGER} and all(r.HasField("time") for r in erased)
