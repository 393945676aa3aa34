"""Group sessions across the three services: a peer hosts a group, intake
staff enrol participants (one waits), a withdrawal promotes the first
waiting; the host hears of each enrolment and of the promotion exactly once,
in generic words, and no name, address or participant reference reaches the
logs, the events, the emails or the inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort, key, ts
from .conftest import Settled, Stack
from .observe import EventLog, leaks, mails, message_ids, of_kind, readable

JOINED, PROMOTED = npb.KIND_GROUP_ENROLMENT, npb.KIND_GROUP_PROMOTED


async def test_the_host_is_told_once_of_each_enrolment_and_promotion(
    api: Api, stack: Stack, events: EventLog, settled: Settled
) -> None:
    cohort = Cohort()
    host, co = cohort.peer(1), cohort.peer(2)
    await api.enrol(cohort, host, co)
    for peer_id in (host.peer_id, co.peer_id):

        async def known(p: str = peer_id) -> bool:
            return await api.knows_calendar(p)

        await eventually(known, timeout=20, what="calendar known")
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    create = spb.CreateGroupSessionRequest(
        idempotency_key=key(),
        host_peer_id=host.peer_id,
        co_facilitator_peer_id=co.peer_id,
        capacity=2,
        modality=spb.GROUP_MODALITY_VIDEO,
        duration_minutes=60,
        start=ts(start),
        recurrence=spb.Recurrence(count=4),
    )
    group = (await api.scheduler("manager").CreateGroupSession(create)).group
    refs = [f"ref-{cohort.tag}-group{i}" for i in range(3)]
    enrolments = []
    for ref in refs:
        request = spb.EnrolParticipantRequest(
            idempotency_key=f"{cohort.tag}-{ref}", group_id=group.group_id, participant_ref=ref
        )
        enrolments.append((await api.scheduler().EnrolParticipant(request)).enrolment)
        await api.scheduler().EnrolParticipant(request)  # a replay: nothing new
    assert [e.status for e in enrolments] == [spb.ENROLMENT_STATUS_ENROLLED] * 2 + [spb.ENROLMENT_STATUS_WAITING]
    withdraw = spb.WithdrawParticipantRequest(idempotency_key=key(), group_id=group.group_id, participant_ref=refs[0])
    assert (await api.scheduler().WithdrawParticipant(withdraw)).promoted.participant_ref == refs[2]

    await api.told(host.peer_id, JOINED, JOINED, PROMOTED)
    await settled()
    inbox = await api.inbox(host.peer_id)
    joined, promoted = of_kind(inbox, JOINED), of_kind(inbox, PROMOTED)
    assert (len(joined), len(promoted)) == (2, 1)  # exactly once each; the waiting one's enrolment tells nobody
    assert {n.body for n in joined} == {"A participant has joined a group you host in Alongside."}
    assert promoted[0].body == "A place in a group you host was filled from the waiting list."
    host_mail = mails(stack.sink.mails, cohort.email(1), JOINED) + mails(stack.sink.mails, cohort.email(1), PROMOTED)
    assert len(host_mail) == 3 and len(message_ids(host_mail)) == 3
    assert of_kind(await api.inbox(co.peer_id), JOINED) == []

    personal = {host.display_name, co.display_name, cohort.email(1), cohort.email(2)}
    assert leaks(stack.logs(), personal | set(refs)) == []
    group_events = [e for e in events.events if e.type.startswith("session.group.") and e.subject == group.group_id]
    assert {e.type for e in group_events} >= {"session.group.created", "session.group.promoted"}
    for event in group_events:
        assert leaks(event.body.decode("latin-1") + str(event.headers()), personal | set(refs)) == []
    for mail in stack.sink.mails:
        assert leaks(readable(mail), personal - {cohort.email(1), cohort.email(2)} | set(refs)) == []
    for item in inbox:
        assert leaks(item.title + item.body, personal | set(refs)) == []
