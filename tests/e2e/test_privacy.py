"""No personal data leaves the system along the journey.

Canary values are planted in the roster (a peer's display name), the contact
preferences (the email address) and the intake (the consent form reference).
None may show up in any service's log, in a published event, in an email
(but for the address it is sent to), in an inbox text or in a span the
services export. The emails and inbox
texts carry no ids of the participant, the request or the match either. The
``no_personal_data_leaves`` fixture repeats the log and email checks after
every other test too.
"""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort
from .conftest import Stack
from .observe import EventLog, leaks, readable

FORM_CANARY = "form-canary-7731"


async def test_canaries_never_reach_logs_events_emails_or_inbox_texts(api: Api, stack: Stack, events: EventLog) -> None:
    cohort = Cohort()
    peer = cohort.peer(1)
    await api.enrol(cohort, peer)
    consent = mpb.Consent(scope="peer-support-matching", recipients=["assigned-peer"], form_ref=FORM_CANARY)
    request = await api.submit(cohort.intake("canary", consent=consent))
    match = await api.accept(request.request_id, peer.peer_id)
    kinds = (npb.KIND_ASSIGNMENT_NEW, npb.KIND_SESSION_BOOKED)
    await api.told(peer.peer_id, *kinds)

    personal = {peer.display_name, cohort.email(1), FORM_CANARY}
    stack.canaries.add(FORM_CANARY)  # checked in every later test's logs, emails and spans too
    logs = stack.logs()
    assert "notification.created" in logs  # the logs do hold the services' lines, at debug level
    assert leaks(logs, personal) == []
    await eventually(lambda: len(events.events) > 0, what="events read")
    for event in events.events:
        assert leaks(event.body.decode("latin-1") + str(event.headers()), personal) == []

    ids = {request.request_id, match.match_id, f"ref-{cohort.tag}-canary"}
    sent = [m for m in stack.sink.mails if cohort.email(1) in m.to]
    assert len(sent) >= 2  # a reminder may follow: the session can be minutes away
    for mail in sent:
        assert leaks(readable(mail), personal | ids) == []
    for item in await api.inbox(peer.peer_id):
        assert leaks(item.title + item.body, personal | ids) == []
    # The services trace every call and event (exported to the stack's receiver): names and codes only.
    await eventually(lambda: any(s.name == "smtp send" for s in stack.collector.everything()), what="spans exported")
    for span in stack.collector.everything():
        assert leaks(span.text, personal | ids | {peer.peer_id}) == [], span.name
