"""After RevokeConsent the notifier says nothing more about the match: later
match and session events (a reminder names only its session) create no
notification, and emails held by quiet hours are cancelled, not sent."""

from __future__ import annotations

from datetime import timedelta

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from ..matcher.conftest import Matcher
from ..notifier.conftest import Start
from ..notifier.harness import EMAIL, INBOX, FakeClock, Running, closed, session, utc
from .conftest import consent, matched

NIGHT = pb.QuietHours(start_minute=22 * 60, end_minute=7 * 60)
ADDRESS = "p-1@example.org"


async def settled(notifier: Running) -> bool:
    """Both consumers have handled (and acknowledged) everything published."""
    for durable, stream in (("notifier-match", "MATCH"), ("notifier-session", "SESSION")):
        spec = next(s for s in CATALOGUE if s.name == stream)
        info = await notifier.js.consumer_info(stream_name(notifier.namespace, spec), durable)
        if info.num_pending or info.num_ack_pending or (info.num_redelivered or 0):
            return False
    return True


async def email_states(notifier: Running, peer_id: str) -> list[tuple[int, str]]:
    items = await notifier.items(peer_id)
    return [(d.status, d.reason) for item in items for d in item.deliveries if d.channel == EMAIL]


async def test_revocation_stops_and_cancels_notifications(
    matcher: Matcher, start_notifier: Start, smtp_sink: SmtpSink
) -> None:
    clock = FakeClock(utc(2031, 1, 15, 5, 30))  # 00:30 in New York: quiet hours
    notifier = await start_notifier(clock=clock)
    await notifier.set_prefs(
        "p-1", channels=[INBOX, EMAIL], email=ADDRESS, time_zone="America/New_York", quiet_hours=NIGHT
    )
    match = await matched(matcher, "n1", "p-1", consent("assigned-peer"))
    start = clock.now + timedelta(days=3)
    await notifier.publish(session("booked", "p-1", start, session_id="s-1", match_id=match.match_id))
    deferred = (pb.DELIVERY_STATUS_DEFERRED, "quiet_hours")
    await eventually(lambda: _states(notifier, [deferred, deferred]), what="two deferred emails")

    await matcher.stub.RevokeConsent(mpb.RevokeConsentRequest(idempotency_key="rv", request_id=match.request_id))
    cancelled = (pb.DELIVERY_STATUS_CANCELLED, "consent_revoked")
    await eventually(lambda: _states(notifier, [cancelled, cancelled]), what="both emails cancelled")

    # Later news about the match, or about its sessions, is suppressed.
    await notifier.publish(session("reminder_due", "p-1", start, session_id="s-1", reminder_id="r-1"))
    await notifier.publish(session("booked", "p-1", start, session_id="s-2", match_id=match.match_id))
    await notifier.publish(session("reminder_due", "p-1", start, session_id="s-2", reminder_id="r-2"))
    await notifier.publish(closed("p-1", match.match_id))
    # News about another match of the same peer still arrives.
    await notifier.publish(session("booked", "p-1", start, session_id="s-9", match_id="m-other"))
    await matcher.drained()
    await eventually(lambda: settled(notifier), what="consumers settled")
    items = await notifier.items("p-1")
    assert [dict(i.refs).get("match_id") for i in items] == ["m-other", match.match_id, match.match_id]

    clock.now = utc(2031, 1, 15, 12, 0)  # 07:00 in New York: held email may go now
    await eventually(lambda: len(smtp_sink.to(ADDRESS)) == 1, what="the other match's email")
    assert await email_states(notifier, "p-1") == [(pb.DELIVERY_STATUS_SENT, ""), cancelled, cancelled]


async def _states(notifier: Running, expected: list[tuple[int, str]]) -> bool:
    return await email_states(notifier, "p-1") == expected
