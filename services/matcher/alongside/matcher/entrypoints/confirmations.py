"""The matcher's durable consumers: erasure confirmations from the scheduler
and the notifier.

Each service confirms on its own aggregate's subject
(``session.erasure_confirmed``, ``notification.erasure_confirmed``), in the
same outbox transaction as its scrub, and NATS lets only that service publish
there. So the durable a confirmation arrives on says who confirmed; the body
only says which erasure.
"""

from __future__ import annotations

from collections.abc import Sequence

from alongside.api.notifier.v1 import events_pb2 as notifier_ev
from alongside.api.scheduler.v1 import events_pb2 as scheduler_ev
from alongside.kit.errors import InvalidArgument
from alongside.kit.events.consumer import Consumer, ConsumerSpec, Handler, Permanent
from alongside.kit.events.envelope import Event
from alongside.kit.events.streams import CATALOGUE
from alongside.kit.runtime import Deps
from alongside.matcher.domain.validation_rules import check_id
from alongside.matcher.service.erasure import Erasures

SESSION = next(s for s in CATALOGUE if s.name == "SESSION")
NOTIFICATION = next(s for s in CATALOGUE if s.name == "NOTIFICATION")


def confirmed_by(service: str, erasures: Erasures) -> Handler:
    async def handle(event: Event) -> None:
        kind = scheduler_ev.ErasureConfirmed if service == "scheduler" else notifier_ev.ErasureConfirmed
        erasure_id = str(getattr(event.parse(kind), "erasure_id"))  # noqa: B009 - two message types
        try:
            check_id("erasure_id", erasure_id)
        except InvalidArgument:
            raise Permanent(f"{event.type}: erasure_id is invalid") from None
        await erasures.confirm(erasure_id, service)

    return handle


def consumers(deps: Deps, erasures: Erasures) -> Sequence[Consumer]:
    specs = (
        ("scheduler", ConsumerSpec(durable="matcher-session", stream=SESSION, events=("session.erasure_confirmed",))),
        (
            "notifier",
            ConsumerSpec(
                durable="matcher-notification", stream=NOTIFICATION, events=("notification.erasure_confirmed",)
            ),
        ),
    )
    ns = deps.settings.namespace
    return [
        Consumer(deps.nc, deps.js, deps.redis, deps.keys, ns, spec, confirmed_by(service, erasures))
        for service, spec in specs
    ]
