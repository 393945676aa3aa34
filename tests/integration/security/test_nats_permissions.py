"""Each service's NATS user publishes only its own events and reaches the
JetStream API only for the catalogue streams and its own durables
(deploy/nats/nats-server.conf)."""

from __future__ import annotations

import nats
import pytest
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from alongside.kit import nats as kit_nats
from alongside.kit.events.streams import CATALOGUE, provision, require, stream_config, stream_name
from alongside.kit.testing.secure_servers import SecureNatsServer
from alongside.kit.testing.wait import eventually
from tests.integration.security.conftest import NAMESPACE, NatsLogin, NatsUser

ALLOWED = [
    ("matcher", "peer.upserted"),
    ("matcher", "match.accepted"),
    ("scheduler", "session.booked"),
    ("scheduler", "dlq.scheduler-match"),
    ("notifier", "notification.sent"),
    ("notifier", "dlq.notifier-session"),
    ("matcher", "audit.matcher"),
    ("scheduler", "audit.scheduler"),
    ("notifier", "audit.notifier"),
]
DENIED = [
    ("matcher", "session.booked"),
    ("matcher", "notification.sent"),
    ("scheduler", "match.accepted"),
    ("scheduler", "peer.upserted"),
    ("scheduler", "dlq.notifier-match"),  # another service's dead letters
    ("notifier", "session.booked"),
    ("notifier", "match.closed"),
    # another service's audit trail: no forged records
    ("scheduler", "audit.matcher"),
    ("notifier", "audit.scheduler"),
    ("matcher", "audit.notifier"),
    ("scheduler", "audit.anything.at.all"),
]


def stream_of(subject: str) -> str:
    aggregate = subject.split(".")[0]
    return stream_name(NAMESPACE, next(s for s in CATALOGUE if s.aggregate == aggregate))


async def messages(admin: NatsUser, subject: str) -> int:
    info = await admin.nc.jetstream().stream_info(stream_of(subject))
    return int(info.state.messages)


async def violation(user: NatsUser, what: str) -> None:
    async def seen() -> bool:
        return user.denied(what)

    await eventually(seen, timeout=5, what=f"permissions violation for {what}")


@pytest.fixture
async def admin(nats_as: NatsLogin) -> NatsUser:
    user = await nats_as("admin")
    await provision(user.nc.jetstream(), NAMESPACE)
    return user


@pytest.mark.parametrize(("service", "event"), ALLOWED)
async def test_a_service_publishes_its_own_events(
    nats_as: NatsLogin, admin: NatsUser, service: str, event: str
) -> None:
    user = await nats_as(service)
    ack = await user.nc.jetstream().publish(f"{NAMESPACE}.{event}", b"x")
    assert ack.stream == stream_of(event)
    assert await messages(admin, event) == 1


@pytest.mark.parametrize(("service", "event"), DENIED)
async def test_a_service_cannot_publish_another_services_events(
    nats_as: NatsLogin, admin: NatsUser, service: str, event: str
) -> None:
    user = await nats_as(service)
    subject = f"{NAMESPACE}.{event}"
    await user.nc.publish(subject, b"forged")
    await user.nc.flush()
    await violation(user, f'publish to "{subject}"')
    assert await messages(admin, event) == 0


async def test_events_are_read_through_durables_not_subscriptions(nats_as: NatsLogin, admin: NatsUser) -> None:
    notifier = await nats_as("notifier")
    await notifier.nc.subscribe(f"{NAMESPACE}.session.>")
    await notifier.nc.flush()
    await violation(notifier, "subscription")


async def test_a_service_cannot_use_another_services_durable(nats_as: NatsLogin, admin: NatsUser) -> None:
    stream = stream_of("match")
    config = ConsumerConfig(durable_name="notifier-match", ack_policy=AckPolicy.EXPLICIT)
    await admin.nc.jetstream().add_consumer(stream, config)
    scheduler = await nats_as("scheduler")
    js = scheduler.nc.jetstream(timeout=0.5)
    with pytest.raises(NatsTimeout):
        await js.add_consumer(stream, config)
    sub = await js.pull_subscribe_bind("notifier-match", stream)
    with pytest.raises(NatsTimeout):
        await sub.fetch(1, timeout=0.5)
    await violation(scheduler, "CONSUMER.MSG.NEXT")
    # Its own durable it may create.
    await scheduler.nc.jetstream().add_consumer(stream, ConsumerConfig(durable_name="scheduler-match"))


async def test_no_service_can_delete_or_purge_events(nats_as: NatsLogin, admin: NatsUser) -> None:
    await admin.nc.jetstream().publish(f"{NAMESPACE}.peer.upserted", b"x")
    matcher = await nats_as("matcher")
    js = matcher.nc.jetstream(timeout=0.5)
    with pytest.raises(NatsTimeout):
        await js.purge_stream(stream_of("peer"))
    with pytest.raises(NatsTimeout):
        await js.delete_stream(stream_of("peer"))
    # nats-py's delete_msg ignores the short timeout; the bare request shows the refusal.
    await matcher.nc.publish(f"$JS.API.STREAM.MSG.DELETE.{stream_of('peer')}", b'{"seq": 1}')
    await matcher.nc.flush()
    await violation(matcher, "STREAM.MSG.DELETE")
    assert await messages(admin, "peer") == 1


@pytest.mark.parametrize(
    ("service", "own", "other"), [("matcher", "match", "session"), ("scheduler", "session", "match")]
)
async def test_erasure_deletes_single_messages_of_the_services_own_stream_and_dlq_only(
    nats_as: NatsLogin, admin: NatsUser, service: str, own: str, other: str
) -> None:
    for aggregate in (own, other):
        await admin.nc.jetstream().publish(f"{NAMESPACE}.{aggregate}.x", b"x")
    user = await nats_as(service)
    js = user.nc.jetstream(timeout=2)
    assert (await js.get_msg(stream_of(own), 1)).data == b"x"
    assert await js.delete_msg(stream_of(own), 1)
    assert await messages(admin, own) == 0
    # and the dead-letter copies of those events
    await admin.nc.jetstream().publish(f"{NAMESPACE}.dlq.x", b"x")
    assert await js.delete_msg(stream_of("dlq"), 1)
    await user.nc.publish(f"$JS.API.STREAM.MSG.DELETE.{stream_of(other)}", b'{"seq": 1}')
    await user.nc.flush()
    await violation(user, f"STREAM.MSG.DELETE.{stream_of(other)}")
    assert await messages(admin, other) == 1
    with pytest.raises(NatsTimeout):
        await js.purge_stream(stream_of(own))


async def test_unknown_users_and_wrong_passwords_are_refused(secure_nats: SecureNatsServer) -> None:
    wrong = secure_nats.url_for("matcher").replace(secure_nats.passwords["matcher"], "guess")
    for url in (secure_nats.url, wrong):
        with pytest.raises(NatsError, match=r"(?i)authorization violation"):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


async def test_the_kit_connects_with_credentials_in_the_url(secure_nats: SecureNatsServer, admin: NatsUser) -> None:
    nc = await kit_nats.connect(secure_nats.url_for("scheduler"), "scheduler")
    try:
        await require(nc.jetstream(), NAMESPACE)
        assert (await nc.jetstream().publish(f"{NAMESPACE}.session.booked", b"x")).seq == 1
    finally:
        await nc.close()


@pytest.mark.parametrize("subject", ["_INBOX.>", "_INBOX_matcher.>", "_INBOX_notifier.x"])
async def test_a_service_cannot_listen_to_replies_meant_for_others(nats_as: NatsLogin, subject: str) -> None:
    scheduler = await nats_as("scheduler")
    await scheduler.nc.subscribe(subject)
    await scheduler.nc.flush()
    await violation(scheduler, f'subscription to "{subject}"')


async def test_the_kit_takes_replies_on_the_services_own_inboxes(
    secure_nats: SecureNatsServer, admin: NatsUser
) -> None:
    nc = await kit_nats.connect(secure_nats.url_for("notifier"), "notifier")
    try:
        assert nc.new_inbox().startswith("_INBOX_notifier.")
        await require(nc.jetstream(), NAMESPACE)  # JetStream requests answer on that inbox
        assert (await nc.jetstream().publish(f"{NAMESPACE}.notification.sent", b"x")).seq == 1
    finally:
        await nc.close()


@pytest.mark.parametrize("service", ["matcher", "scheduler", "notifier"])
async def test_no_service_can_create_or_change_a_stream(nats_as: NatsLogin, admin: NatsUser, service: str) -> None:
    """Above all, none can shorten the audit trail's retention."""
    user = await nats_as(service)
    audit = next(s for s in CATALOGUE if s.name == "AUDIT")
    shorter = stream_config(NAMESPACE, audit)
    shorter.max_age = 60.0
    with pytest.raises((NatsTimeout, NatsError)):
        await user.nc.jetstream(timeout=1).update_stream(shorter)
    await violation(user, f'publish to "$JS.API.STREAM.UPDATE.{stream_name(NAMESPACE, audit)}"')
    info = await admin.nc.jetstream().stream_info(stream_name(NAMESPACE, audit))
    assert info.config.max_age == audit.max_age_s
    with pytest.raises((NatsTimeout, NatsError)):
        await provision(user.nc.jetstream(timeout=1), f"{NAMESPACE}2")


@pytest.mark.parametrize("subject", ["audit.anything.at.all", "audit.console", "audit.matcher.x"])
async def test_the_audit_stream_takes_only_the_services_subjects(
    nats_as: NatsLogin, admin: NatsUser, subject: str
) -> None:
    js = admin.nc.jetstream(timeout=1)
    with pytest.raises(NatsError):  # no stream listens there: nothing is stored
        await js.publish(f"{NAMESPACE}.{subject}", b"junk")
    assert await messages(admin, "audit") == 0
