"""The durable consumers of match and session events.

Each stream gets one shared durable (replicas split its work), and each
process handles up to ``CONSUMER_CONCURRENCY`` of its events at once; the
notification id makes handling idempotent whatever the order.
"""

from __future__ import annotations

from alongside.kit.events.consumer import Consumer, ConsumerSpec
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE, StreamSpec
from alongside.kit.runtime import Deps
from alongside.notifier.entrypoints.events import MATCH_EVENTS, SESSION_EVENTS, to_erasure, to_revocation, to_trigger
from alongside.notifier.service.erasure import Erasures
from alongside.notifier.service.notify import Notify
from alongside.notifier.service.revocation import Revocations
from alongside.notifier.settings import NotifierSettings


def _stream(name: str) -> StreamSpec:
    return next(s for s in CATALOGUE if s.name == name)


def specs(settings: NotifierSettings) -> list[ConsumerSpec]:
    def spec(durable: str, stream: str, events: tuple[str, ...]) -> ConsumerSpec:
        return ConsumerSpec(
            durable,
            _stream(stream),
            events,
            max_deliver=settings.consumer_max_deliver,
            backoff_base_s=settings.consumer_backoff_base_seconds,
            ack_wait_s=settings.consumer_ack_wait_seconds,
            in_flight=settings.consumer_concurrency,
            # The notification record, checked in the same atomic write,
            # already makes handling idempotent.
            seen_record=False,
        )

    return [spec("notifier-match", "MATCH", MATCH_EVENTS), spec("notifier-session", "SESSION", SESSION_EVENTS)]


def make_consumers(
    deps: Deps, settings: NotifierSettings, notify: Notify, revocations: Revocations, erasures: Erasures
) -> list[Consumer]:
    async def handle(event: Event) -> None:
        erasure = to_erasure(event)
        if erasure is not None:
            await erasures.handle(erasure.erasure_id, erasure.matches)
            return
        revocation = to_revocation(event)
        if revocation is not None:
            await revocations.handle(revocation.peer_id, revocation.match_id)
            return
        trigger = to_trigger(event)
        if trigger is not None:
            await notify.handle(trigger)

    return [
        Consumer(deps.nc, deps.js, deps.redis, deps.keys, settings.namespace, spec, handle) for spec in specs(settings)
    ]
