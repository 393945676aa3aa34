"""A service killed (SIGKILL, no drain) right after the accept and started
again: the journey still completes, and nothing is lost or done twice.

Killing the matcher can leave match.accepted in its outbox, unpublished;
killing the scheduler can leave the event delivered but not acked (it comes
back after the consumer's 30 s ack wait); killing the notifier can leave an
inbox write or an email job half done. Whatever the moment, the end state is
one match, one session, one inbox item per event and one email per event.
"""

from __future__ import annotations

import pytest

from alongside.api.matcher.v1 import events_pb2 as mev
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import events_pb2 as sev
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort, key
from .conftest import SERVICES, Settled, Stack
from .observe import EventLog, mails, message_ids, of_kind

ASSIGNED, BOOKED = npb.KIND_ASSIGNMENT_NEW, npb.KIND_SESSION_BOOKED
# Longer than the scheduler's 30 s ack wait, for a kill while it held the event.
AFTER_RESTART_S = 50.0


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_killed_after_the_accept_loses_and_repeats_nothing(
    service: str, api: Api, stack: Stack, events: EventLog, settled: Settled
) -> None:
    cohort = Cohort()
    await api.enrol(cohort, cohort.peer(1))
    peer_id = cohort.peer_id(1)
    request = await api.submit(cohort.intake("r"))
    accept_key = key()
    match = await api.accept(request.request_id, peer_id, accept_key)

    stack.restart(service)
    # The client did not hear back (say) and retries with the same key.
    assert await api.accept(request.request_id, peer_id, accept_key) == match

    await api.told(peer_id, ASSIGNED, BOOKED, timeout=AFTER_RESTART_S)
    # A redelivery still to come would land before this returns.
    await settled()
    await eventually(
        lambda: bool(events.of("session.booked", sev.SessionBooked, match_id=match.match_id)),
        what="session.booked seen",
    )
    assert len(events.of("match.accepted", mev.MatchAccepted, match_id=match.match_id)) == 1
    assert len(events.of("session.booked", sev.SessionBooked, match_id=match.match_id)) == 1
    assert len(await api.booked(peer_id, match.match_id)) == 1
    items = await api.inbox(peer_id)
    assert len(of_kind(items, ASSIGNED)) == 1
    assert len(of_kind(items, BOOKED)) == 1
    assert len({n.refs["event_id"] for n in items}) == len(items)
    for kind in (ASSIGNED, BOOKED):
        sent = mails(stack.sink.mails, cohort.email(1), kind)
        assert len(message_ids(sent)) == 1
        if service != "notifier":
            assert len(sent) == 1
        # A kill between the SMTP send and its record may send it again, with
        # the same Message-ID so that the receiver drops it (docs/notifier.md).
        assert len(sent) <= 2
