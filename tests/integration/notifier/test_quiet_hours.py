"""Quiet hours, on each peer's own clock, defer routine email and let urgent
email through. The notifier runs on a clock the test moves."""

from __future__ import annotations

from datetime import timedelta

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.ids import new_id
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .conftest import Start
from .harness import EMAIL, INBOX, FakeClock, Running, accepted, session, utc

NIGHT = pb.QuietHours(start_minute=22 * 60, end_minute=7 * 60)  # 22:00-07:00 local


async def quiet_peer(notifier: Running, zone: str) -> tuple[str, str]:
    peer = new_id("p")
    address = f"{peer}@example.org"
    await notifier.set_prefs(peer, channels=[INBOX, EMAIL], email=address, time_zone=zone, quiet_hours=NIGHT)
    return peer, address


async def email_status(notifier: Running, peer: str) -> tuple[int, str]:
    delivery = await notifier.delivery(peer, EMAIL)
    return (delivery.status, delivery.reason) if delivery else (0, "")


async def test_routine_email_waits_for_each_peers_morning(start_notifier: Start, smtp_sink: SmtpSink) -> None:
    clock = FakeClock(utc(2031, 1, 15, 5, 30))  # New York 00:30, Madrid 06:30, Tokyo 14:30
    notifier = await start_notifier(clock=clock)
    new_york, ny_address = await quiet_peer(notifier, "America/New_York")
    madrid, madrid_address = await quiet_peer(notifier, "Europe/Madrid")
    tokyo, tokyo_address = await quiet_peer(notifier, "Asia/Tokyo")
    for peer in (new_york, madrid, tokyo):
        await notifier.publish(accepted(peer))

    await eventually(lambda: len(smtp_sink.to(tokyo_address)) == 1, what="Tokyo's afternoon email")

    async def both_deferred() -> bool:
        deferred = (pb.DELIVERY_STATUS_DEFERRED, "quiet_hours")
        return await email_status(notifier, new_york) == deferred and await email_status(notifier, madrid) == deferred

    await eventually(both_deferred, what="New York and Madrid deferred")
    assert len(await notifier.items(new_york)) == 1  # the inbox makes no sound: it is not deferred

    clock.now = utc(2031, 1, 15, 6, 0)  # 07:00 in Madrid, 01:00 in New York
    await eventually(lambda: len(smtp_sink.to(madrid_address)) == 1, what="Madrid's morning email")
    clock.advance(hours=5, minutes=59)  # 06:59 in New York: still quiet
    # Tokyo's second email shows the worker has looked at the new time.
    await notifier.publish(accepted(tokyo))
    await eventually(lambda: len(smtp_sink.to(tokyo_address)) == 2, what="a marker email")
    assert await email_status(notifier, new_york) == (pb.DELIVERY_STATUS_DEFERRED, "quiet_hours")
    assert smtp_sink.to(ny_address) == []
    clock.advance(minutes=1)  # 07:00 in New York
    await eventually(lambda: len(smtp_sink.to(ny_address)) == 1, what="New York's morning email")
    assert await email_status(notifier, new_york) == (pb.DELIVERY_STATUS_SENT, "")
    assert len(smtp_sink.mails) == 4


async def test_urgent_email_goes_out_during_quiet_hours(start_notifier: Start, smtp_sink: SmtpSink) -> None:
    clock = FakeClock(utc(2031, 7, 1, 3, 0))  # 23:00 in New York (summer time)
    notifier = await start_notifier(clock=clock)
    flagged, flagged_address = await quiet_peer(notifier, "America/New_York")
    soon, soon_address = await quiet_peer(notifier, "America/New_York")
    routine, _ = await quiet_peer(notifier, "America/New_York")
    await notifier.publish(accepted(flagged, urgent=True))
    # A session starting within the hour cannot wait for the morning.
    await notifier.publish(session("reminder_due", soon, clock.now + timedelta(minutes=60), reminder_id="r"))
    await notifier.publish(accepted(routine))

    await eventually(lambda: len(smtp_sink.mails) == 2, what="both urgent emails")
    assert len(smtp_sink.to(flagged_address)) == 1 and len(smtp_sink.to(soon_address)) == 1

    async def routine_deferred() -> bool:
        print("DBG", await notifier.items(routine))
        return await email_status(notifier, routine) == (pb.DELIVERY_STATUS_DEFERRED, "quiet_hours")

    await eventually(routine_deferred, what="the routine email deferred")


async def test_a_deferred_email_is_cancelled_if_the_peer_switches_email_off(
    start_notifier: Start, smtp_sink: SmtpSink
) -> None:
    clock = FakeClock(utc(2031, 1, 15, 5, 30))  # 00:30 in New York
    notifier = await start_notifier(clock=clock)
    published = await notifier.collect()
    peer, _ = await quiet_peer(notifier, "America/New_York")
    await notifier.publish(accepted(peer))

    async def deferred() -> bool:
        return await email_status(notifier, peer) == (pb.DELIVERY_STATUS_DEFERRED, "quiet_hours")

    await eventually(deferred, what="the email deferred")
    await notifier.set_prefs(peer, channels=[INBOX], time_zone="America/New_York", quiet_hours=NIGHT)
    clock.advance(hours=7)  # morning in New York

    async def cancelled() -> bool:
        return await email_status(notifier, peer) == (pb.DELIVERY_STATUS_CANCELLED, "channel_disabled")

    await eventually(cancelled, what="the email cancelled")
    assert smtp_sink.mails == []
    assert published.of_type("notification.failed") == []
