"""Email over real SMTP (an aiosmtpd sink on loopback): generic, localised,
in the peer's zone, and sent once per event."""

from __future__ import annotations

from datetime import UTC, datetime

from alongside.api.notifier.v1 import events_pb2
from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.ids import new_id
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .conftest import Start
from .harness import EMAIL, INBOX, Running, accepted, session

START = datetime(2031, 3, 12, 17, 0, tzinfo=UTC)  # a Wednesday


async def email_peer(notifier: Running, language: str = "en", time_zone: str = "UTC") -> tuple[str, str]:
    peer = new_id("p")
    address = f"{peer}@example.org"
    await notifier.set_prefs(peer, channels=[INBOX, EMAIL], email=address, language=language, time_zone=time_zone)
    return peer, address


async def test_email_is_generic_and_in_the_peers_language(start_notifier: Start, smtp_sink: SmtpSink) -> None:
    notifier = await start_notifier()
    sent = await notifier.collect()
    en_peer, en_address = await email_peer(notifier, "en")
    es_peer, es_address = await email_peer(notifier, "es-MX")
    en_event = await notifier.publish(accepted(en_peer))
    await notifier.publish(accepted(es_peer))
    await eventually(lambda: len(smtp_sink.mails) == 2, what="two emails")

    (en,) = smtp_sink.to(en_address)
    assert en.message["Subject"] == "You have a new assignment in Alongside"
    assert en.text.startswith("You have a new assignment in Alongside.")
    assert en.message["From"] == "alongside@localhost"
    assert en.message["Content-Language"] == "en"
    assert en.message["Message-ID"].endswith("@localhost>")
    (es,) = smtp_sink.to(es_address)
    assert es.message["Subject"] == "Tienes una nueva asignación en Alongside"
    assert "Abre Alongside para ver los detalles." in es.text
    assert es.message["Content-Language"] == "es"

    async def recorded() -> bool:
        delivery = await notifier.delivery(en_peer, EMAIL)
        return delivery is not None and delivery.status == pb.DELIVERY_STATUS_SENT

    await eventually(recorded, what="email SENT in the inbox item")
    assert (await notifier.delivery(en_peer, EMAIL)).attempts == 1  # type: ignore[union-attr]
    await eventually(lambda: len(sent.of_type("notification.sent")) == 2, what="a sent event per email")
    bodies = [events_pb2.NotificationSent.FromString(m.data) for m in sent.of_type("notification.sent")]
    assert {b.channel for b in bodies} == {EMAIL}
    assert [b.source_event_id for b in bodies if b.peer_id == en_peer] == [en_event.id]


async def test_session_times_are_on_the_peers_clock(start_notifier: Start, smtp_sink: SmtpSink) -> None:
    notifier = await start_notifier()
    ny_peer, ny_address = await email_peer(notifier, "en", "America/New_York")
    madrid_peer, madrid_address = await email_peer(notifier, "es", "Europe/Madrid")
    await notifier.publish(session("booked", ny_peer, START))
    await notifier.publish(session("booked", madrid_peer, START))
    await eventually(lambda: len(smtp_sink.mails) == 2, what="two emails")
    assert "A session has been booked for Wed 12 Mar, 13:00 (your time)." in smtp_sink.to(ny_address)[0].text
    assert "miércoles 12 de marzo a las 18:00" in smtp_sink.to(madrid_address)[0].text


async def test_the_same_event_twice_gives_one_item_and_one_email(start_notifier: Start, smtp_sink: SmtpSink) -> None:
    notifier = await start_notifier()
    peer, _ = await email_peer(notifier)
    event = accepted(peer)
    await notifier.publish(event)
    await notifier.publish(event, msg_id="republished")  # a producer retry past the dedupe window
    stream = stream_name(notifier.namespace, next(s for s in CATALOGUE if s.name == "MATCH"))

    async def both_handled() -> bool:
        info = await notifier.js.consumer_info(stream, "notifier-match")
        return bool(info.delivered.stream_seq == 2 and info.num_ack_pending == 0)

    await eventually(both_handled, what="both copies handled")

    async def email_done() -> bool:
        delivery = await notifier.delivery(peer, EMAIL)
        return delivery is not None and delivery.status == pb.DELIVERY_STATUS_SENT

    await eventually(email_done, what="email sent")
    assert len(await notifier.items(peer)) == 1
    assert len(smtp_sink.mails) == 1
