"""A group meeting reminder (``session.group.reminder_due``) through a real
notifier: its own kind, a text that says it is a group meeting, in English
and Spanish, at the peer's local time, by inbox and email; and nothing from
the event but the start reaches a peer (no group id, no reminder id)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.api.scheduler.v1 import events_pb2 as session_events
from alongside.kit.events.envelope import Event
from alongside.kit.ids import new_id
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .conftest import Start
from .harness import EMAIL, INBOX, stamp

# Far enough ahead to be routine; 23:00 UTC is 18:00 in New York (EST) and 17:00 in Mexico City.
START = datetime(2031, 1, 14, 23, tzinfo=UTC)  # a Tuesday
CANARIES = ("CANARYGROUP77", "CANARYREMINDER77", "CANARY subject", "/CANARY/source")


def group_reminder(peer_id: str, index: int = 0) -> Event:
    body = session_events.GroupReminderDue(
        reminder_id=f"~grp:h-1~{CANARIES[0]}.{index}:60m:0{CANARIES[1]}",
        group_id=f"h-1~{CANARIES[0]}",
        occurrence_index=index,
        peer_id=peer_id,
        start=stamp(START),
        offset_minutes=60,
    )
    event = Event.of("session.group.reminder_due", "/alongside/scheduler", body, subject=body.group_id)
    return replace(event, subject=CANARIES[2], source=CANARIES[3])


def leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c.lower() in text.lower()]


async def test_group_reminder_text_in_each_language_with_no_group_detail(
    start_notifier: Start, smtp_sink: SmtpSink
) -> None:
    notifier = await start_notifier()
    en, es = new_id("p"), new_id("p")
    await notifier.set_prefs(en, channels=[INBOX, EMAIL], email="en@example.org", time_zone="America/New_York")
    await notifier.set_prefs(
        es, channels=[INBOX, EMAIL], email="es@example.org", language="es-MX", time_zone="America/Mexico_City"
    )
    await notifier.publish(group_reminder(en))
    await notifier.publish(group_reminder(es))
    await eventually(lambda: len(smtp_sink.mails) == 2, what="two emails")

    async def both_in() -> bool:
        return len(await notifier.items(en)) == 1 and len(await notifier.items(es)) == 1

    await eventually(both_in, what="two inbox items")
    (en_item,), (es_item,) = await notifier.items(en), await notifier.items(es)
    assert en_item.kind == es_item.kind == pb.KIND_GROUP_REMINDER
    assert en_item.title == "Reminder: your peer support group meets soon"
    assert en_item.body == "Reminder: your peer support group meets on Tue 14 Jan, 18:00 (your time)."
    assert es_item.title == "Recordatorio: tu grupo de apoyo entre pares se reúne pronto"
    assert es_item.body == (
        "Recordatorio: tu grupo de apoyo entre pares se reúne el martes 14 de enero a las 17:00 (tu hora local)."
    )
    (en_mail,), (es_mail,) = smtp_sink.to("en@example.org"), smtp_sink.to("es@example.org")
    assert en_mail.text.startswith(en_item.body) and es_mail.text.startswith(es_item.body)
    for item in (en_item, es_item):
        assert dict(item.refs).keys() == {"event_id"}  # no session, match or group to link to
        assert leaks(item.title + item.body + str(dict(item.refs))) == []
    for mail in (en_mail, es_mail):
        assert leaks(mail.raw.decode()) == []
