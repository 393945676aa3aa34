"""Group meeting reminders across the services: a group whose first meeting
is a minute away reminds its host and co-facilitator once each (the stack
reminds one minute ahead, REMINDER_OFFSETS_MINUTES=1), and the notifier tells
each of them in the group's words; a cancelled group reminds nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import events_pb2 as sev
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort, at, key, ts
from .conftest import Stack
from .observe import EventLog, mails, of_kind

LEAD = timedelta(minutes=1)
MARGIN = timedelta(seconds=12)
GROUP_REMINDER = npb.KIND_GROUP_REMINDER
REMINDER_DUE = "session.group.reminder_due"


async def create(api: Api, host: str, co: str, start: datetime) -> spb.GroupSession:
    request = spb.CreateGroupSessionRequest(
        idempotency_key=key(),
        host_peer_id=host,
        co_facilitator_peer_id=co,
        capacity=6,
        modality=spb.GROUP_MODALITY_VIDEO,
        duration_minutes=30,
        start=ts(start),
        recurrence=spb.Recurrence(count=2),
    )
    return (await api.scheduler("manager").CreateGroupSession(request)).group  # type: ignore[no-any-return]


async def test_host_and_co_facilitator_are_reminded_once_and_a_cancelled_group_never(
    api: Api, stack: Stack, events: EventLog
) -> None:
    cohort = Cohort()
    peers = [cohort.peer(n) for n in (1, 2, 3, 4)]
    await api.enrol(cohort, *peers)
    for peer in peers:

        async def known(p: str = peer.peer_id) -> bool:
            return await api.knows_calendar(p)

        await eventually(known, timeout=20, what="calendar known")
    host, co, gone_host, gone_co = (p.peer_id for p in peers)
    start = (datetime.now(UTC) + LEAD + MARGIN).replace(microsecond=0)
    gone = await create(api, gone_host, gone_co, start)
    group = await create(api, host, co, start + timedelta(seconds=2))
    await api.scheduler("manager").CancelGroupSession(
        spb.CancelGroupSessionRequest(idempotency_key=key(), group_id=gone.group_id)
    )

    def fired(group_id: str) -> list[sev.GroupReminderDue]:
        return list(events.of(REMINDER_DUE, sev.GroupReminderDue, group_id=group_id))

    await eventually(lambda: len(fired(group.group_id)) >= 2, timeout=60, what="the group's reminders")
    await api.told(host, GROUP_REMINDER)
    await api.told(co, GROUP_REMINDER)
    reminders = fired(group.group_id)
    assert sorted(r.peer_id for r in reminders) == sorted([host, co])  # once each
    assert {(r.occurrence_index, r.offset_minutes, at(r.start)) for r in reminders} == {
        (0, 1, at(group.occurrences[0].start))
    }
    # The cancelled group's meeting was due first: its reminders had their chance and never came.
    assert fired(gone.group_id) == []
    for peer_id, n in ((host, 1), (co, 2)):
        (item,) = of_kind(await api.inbox(peer_id), GROUP_REMINDER)
        assert item.body.startswith("Reminder: your peer support group meets on ")
        assert item.body.endswith("(your time).")
        assert len(mails(stack.sink.mails, cohort.email(n), GROUP_REMINDER)) == 1
    for peer_id in (gone_host, gone_co):
        assert of_kind(await api.inbox(peer_id), GROUP_REMINDER) == []
