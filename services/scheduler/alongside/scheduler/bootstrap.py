"""Composition root: wires the scheduler's adapters into a runtime. Nothing
connects until the runtime starts. ``clock`` is injectable so tests can
move time (reminders, notice windows) without waiting."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from grpc import aio

from alongside.api.scheduler.v1 import events_pb2, scheduler_pb2, scheduler_pb2_grpc
from alongside.kit.erasure import DLQ_SUBJECT_HEADER, scrub_stream
from alongside.kit.events.consumer import Consumer
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.runtime import Deps, Runtime
from alongside.scheduler.adapters.commit import Committer
from alongside.scheduler.adapters.enrolling import Enrolling
from alongside.scheduler.adapters.firing import Firing
from alongside.scheduler.adapters.functions import LIBRARY
from alongside.scheduler.adapters.store import SchedulerStore
from alongside.scheduler.entrypoints.bounds import BOUNDS
from alongside.scheduler.entrypoints.consumers import consumers
from alongside.scheduler.entrypoints.grpc_api import SchedulerServicer
from alongside.scheduler.entrypoints.policy import AUDITED, POLICY
from alongside.scheduler.service.auto import MatchEvents
from alongside.scheduler.service.booking import Booking
from alongside.scheduler.service.calendar import Calendar
from alongside.scheduler.service.changes import Changes
from alongside.scheduler.service.context import Context
from alongside.scheduler.service.erasure import Erasures, ScrubStream
from alongside.scheduler.service.group_roster import GroupRoster
from alongside.scheduler.service.groups import GroupSessions
from alongside.scheduler.service.plan import Planner
from alongside.scheduler.service.queries import Queries
from alongside.scheduler.service.reminders import ReminderLoop
from alongside.scheduler.service.stats import SessionStatsQuery
from alongside.scheduler.service.stats_backfill import StatsBackfill
from alongside.scheduler.settings import SchedulerSettings

SERVICE_NAME = scheduler_pb2.DESCRIPTOR.services_by_name["SchedulerService"].full_name


def utc_now() -> datetime:
    return datetime.now(UTC)


def booked_scrubber(deps: Deps, namespace: str) -> ScrubStream:
    """Deletes the ``session.booked`` events (they carry the participant's
    reference) of the given sessions from the session stream, and the
    notifier's dead-letter copies of them."""
    stream = {s.name: stream_name(namespace, s) for s in CATALOGUE}
    booked = f"{namespace}.session.booked"
    places = [(stream["SESSION"], booked), (stream["DLQ"], f"{namespace}.dlq.notifier-session")]

    async def scrub(session_ids: set[str]) -> int:
        def wanted(headers: dict[str, str], body: bytes) -> bool:
            if headers.get(DLQ_SUBJECT_HEADER, booked) != booked:
                return False
            message = events_pb2.SessionBooked()
            try:
                message.ParseFromString(body)
            except Exception:  # noqa: BLE001 - not ours to judge here
                return False
            return message.session_id in session_ids

        if not session_ids:
            return 0
        return sum([await scrub_stream(deps.js, name, subject, wanted) for name, subject in places])

    return scrub


def build(settings: SchedulerSettings, clock: Callable[[], datetime] = utc_now) -> Runtime:
    policy = settings.policy()

    def context(deps: Deps) -> Context:
        store = SchedulerStore(deps.redis, deps.keys)
        return Context(store, Committer(deps.redis), deps.uow, deps.outbox, settings, policy, clock)

    def register(deps: Deps, server: aio.Server) -> Sequence[str]:
        ctx = context(deps)
        booking = Booking(ctx)
        deps.tasks.append(ReminderLoop(ctx, Firing(deps.redis)).run)
        deps.tasks.append(StatsBackfill(ctx.store).run)
        groups = GroupSessions(ctx)
        servicer = SchedulerServicer(
            Calendar(ctx),
            booking,
            Changes(ctx),
            Queries(ctx),
            Planner(ctx, booking),
            SessionStatsQuery(ctx),
            groups,
            GroupRoster(ctx, groups, Enrolling(deps.redis)),
        )
        scheduler_pb2_grpc.add_SchedulerServiceServicer_to_server(servicer, server)
        return (SERVICE_NAME,)

    def make_consumers(deps: Deps) -> Sequence[Consumer]:
        ctx = context(deps)
        erasures = Erasures(ctx, booked_scrubber(deps, settings.namespace))
        return consumers(deps, settings, Calendar(ctx), MatchEvents(ctx, Booking(ctx)), erasures)

    return Runtime(
        settings, register, make_consumers, policies=[POLICY], audited=AUDITED, functions=[LIBRARY], bounds=BOUNDS
    )
