"""Two replicas share the consumers and the due jobs: each email goes out once."""

from __future__ import annotations

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.kit.ids import new_id
from alongside.kit.testing.smtp import SmtpSink
from alongside.kit.testing.wait import eventually

from .conftest import Start
from .harness import EMAIL, INBOX, accepted


async def test_two_replicas_send_each_email_once(start_notifier: Start, smtp_sink: SmtpSink) -> None:
    first, second = await start_notifier(), await start_notifier()
    peers = [new_id("p") for _ in range(4)]
    for peer in peers:
        await first.set_prefs(peer, channels=[INBOX, EMAIL], email=f"{peer}@example.org")
    for i in range(40):
        await second.publish(accepted(peers[i % len(peers)]))
    due = first.keys.key("delivery", "due")

    async def all_settled() -> bool:
        for peer in peers:
            states = [(d.channel, d.status) for i in await first.items(peer) for d in i.deliveries]
            if states.count((EMAIL, pb.DELIVERY_STATUS_SENT)) != 10:
                return False
        return await first.redis.zcard(due) == 0

    await eventually(all_settled, what="every email SENT and every job cleared")
    message_ids = [m.message["Message-ID"] for m in smtp_sink.mails]
    assert len(message_ids) == 40 == len(set(message_ids))
