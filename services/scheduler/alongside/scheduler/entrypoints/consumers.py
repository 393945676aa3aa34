"""Durable consumers of the matcher's events (shared by every replica).

A handler that meets data it can never process (an invalid id, zone or
window) raises ``Permanent`` so the event goes to the dead-letter stream at
once; anything else is retried with backoff by the kit's consumer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from alongside.api.matcher.v1 import events_pb2 as matcher_ev
from alongside.kit.errors import InvalidArgument
from alongside.kit.events.consumer import Consumer, ConsumerSpec, Permanent
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE
from alongside.kit.runtime import Deps
from alongside.scheduler.service.auto import MatchEvents
from alongside.scheduler.service.calendar import Calendar
from alongside.scheduler.service.erasure import Erasures
from alongside.scheduler.settings import SchedulerSettings

PEER = next(s for s in CATALOGUE if s.name == "PEER")
MATCH = next(s for s in CATALOGUE if s.name == "MATCH")
Handler = Callable[[Event], Awaitable[None]]


def dispatch(routes: dict[str, Handler]) -> Handler:
    async def handle(event: Event) -> None:
        route = routes.get(event.type)
        if route is None:
            return
        try:
            await route(event)
        except InvalidArgument as exc:
            raise Permanent(f"{event.type}: {exc.field} is invalid") from None

    return handle


def peer_routes(calendar: Calendar) -> dict[str, Handler]:
    async def upserted(event: Event) -> None:
        await calendar.peer_upserted(event.parse(matcher_ev.PeerUpserted))

    async def status_changed(event: Event) -> None:
        await calendar.peer_status_changed(event.parse(matcher_ev.PeerStatusChanged))

    return {"peer.upserted": upserted, "peer.status_changed": status_changed}


def consumers(
    deps: Deps, settings: SchedulerSettings, calendar: Calendar, matches: MatchEvents, erasures: Erasures
) -> Sequence[Consumer]:
    backoff = settings.consumer_backoff_seconds
    peer_spec = ConsumerSpec(
        durable="scheduler-peer",
        stream=PEER,
        events=("peer.upserted", "peer.status_changed"),
        backoff_base_s=backoff,
        ack_wait_s=settings.consumer_ack_wait_seconds,
    )
    match_spec = ConsumerSpec(
        durable="scheduler-match",
        stream=MATCH,
        events=("match.accepted", "match.closed", "match.participant_erased"),
        # Room for the availability retries, after which the handler gives up itself.
        max_deliver=settings.availability_retry_limit + 2,
        backoff_base_s=backoff,
        # How soon an event a crashed replica held is handed to another.
        ack_wait_s=settings.consumer_ack_wait_seconds,
    )
    match_routes: dict[str, Handler] = {
        "match.accepted": matches.accepted,
        "match.closed": matches.closed,
        "match.participant_erased": erasures.erased,
    }
    return [
        Consumer(
            deps.nc, deps.js, deps.redis, deps.keys, settings.namespace, peer_spec, dispatch(peer_routes(calendar))
        ),
        Consumer(deps.nc, deps.js, deps.redis, deps.keys, settings.namespace, match_spec, dispatch(match_routes)),
    ]
