"""Composition root: wires the matcher's adapters into a runtime. Nothing
connects until the runtime starts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from grpc import aio
from prometheus_client import Gauge

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import events_pb2, matcher_pb2, matcher_pb2_grpc
from alongside.kit.auth import setup as auth_setup
from alongside.kit.erasure import DLQ_SUBJECT_HEADER, scrub_stream
from alongside.kit.events.consumer import Consumer
from alongside.kit.events.streams import CATALOGUE, stream_name
from alongside.kit.logging import get_logger
from alongside.kit.runtime import Deps, Runtime
from alongside.matcher.adapters.group_store import GroupCache, GroupStore
from alongside.matcher.adapters.roster_cache import RosterCache
from alongside.matcher.adapters.store import MatcherStore
from alongside.matcher.entrypoints import confirmations
from alongside.matcher.entrypoints.audit_api import AUDIT_POLICY, AuditServicer
from alongside.matcher.entrypoints.bounds import BOUNDS
from alongside.matcher.entrypoints.grpc_api import MatcherServicer
from alongside.matcher.entrypoints.policy import AUDITED, POLICY
from alongside.matcher.service.batch import Batch
from alongside.matcher.service.context import Context
from alongside.matcher.service.disclosure import Disclosure
from alongside.matcher.service.erasure import Erasures, ScrubStream
from alongside.matcher.service.groups import Groups
from alongside.matcher.service.intake import Intake, Rematch
from alongside.matcher.service.queries import Queries
from alongside.matcher.service.roster import Roster
from alongside.matcher.service.stats import ProgrammeStatsQuery
from alongside.matcher.service.stats_backfill import StatsBackfill
from alongside.matcher.settings import MatcherSettings

log = get_logger(__name__)
# The running policy's digest as a number (its 12 hex digits fit a float
# exactly): replicas that disagree show different values (docs/matcher.md).
POLICY_DIGEST = Gauge(
    "alongside_matcher_policy_digest",
    "The programme policy's digest (GetPolicy) as a number; replicas should agree",
    multiprocess_mode="max",
)
# The durables that read match.accepted, whose dead letters may hold a copy.
MATCH_READERS = ("scheduler-match", "notifier-match")
SERVICE_NAME = matcher_pb2.DESCRIPTOR.services_by_name["MatcherService"].full_name
AUDIT_SERVICE_NAME = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name


def utc_now() -> datetime:
    return datetime.now(UTC)


def accepted_scrubber(deps: Deps, namespace: str) -> ScrubStream:
    """Deletes the ``match.accepted`` events (they carry the participant's
    reference, zone and windows) of the given matches from the match stream,
    and their dead-letter copies."""
    stream = {s.name: stream_name(namespace, s) for s in CATALOGUE}
    accepted = f"{namespace}.match.accepted"
    places = [(stream["MATCH"], accepted)]
    places += [(stream["DLQ"], f"{namespace}.dlq.{durable}") for durable in MATCH_READERS]

    async def scrub(match_ids: set[str]) -> int:
        def wanted(headers: dict[str, str], body: bytes) -> bool:
            if headers.get(DLQ_SUBJECT_HEADER, accepted) != accepted:
                return False
            message = events_pb2.MatchAccepted()
            try:
                message.ParseFromString(body)
            except Exception:  # noqa: BLE001 - not ours to judge here
                return False
            return message.match_id in match_ids

        if not match_ids:
            return 0
        return sum([await scrub_stream(deps.js, name, subject, wanted) for name, subject in places])

    return scrub


def index_for_lists(store: MatcherStore) -> Callable[[asyncio.Event], Awaitable[None]]:
    """A background task: index what an older matcher wrote for the lists, once, then idle."""

    async def run(stop: asyncio.Event) -> None:
        added = await store.index_for_lists()
        if added:
            log.info("matcher.lists_indexed", entries=added)
        await stop.wait()

    return run


def build(settings: MatcherSettings, clock: Callable[[], datetime] = utc_now) -> Runtime:
    made: list[Erasures] = []
    policy = settings.programme_policy()
    POLICY_DIGEST.set(int(policy.digest, 16))
    log.info("matcher.policy", programme=policy.programme, digest=policy.digest, source=policy.source)

    def register(deps: Deps, server: aio.Server) -> Sequence[str]:
        store = MatcherStore(deps.redis, deps.keys)
        ctx = Context(store, deps.uow, RosterCache(store), settings, clock, weights=policy.weights, policy=policy)
        group_store = GroupStore(deps.redis, deps.keys)
        intake = Intake(ctx, GroupCache(group_store))
        rematch = Rematch(ctx, intake)
        erasures = Erasures(ctx, accepted_scrubber(deps, settings.namespace))
        made.append(erasures)
        batch = Batch(ctx, intake)
        deps.tasks.extend((rematch.run, erasures.run, batch.stop_on, StatsBackfill(store).run, index_for_lists(store)))
        servicer = MatcherServicer(
            Roster(ctx),
            intake,
            Queries(ctx),
            batch,
            rematch,
            Disclosure(ctx),
            erasures,
            ProgrammeStatsQuery(ctx),
            Groups(ctx, group_store),
        )
        matcher_pb2_grpc.add_MatcherServiceServicer_to_server(servicer, server)
        audit = AuditServicer(deps.js, settings.namespace, auth_setup.signature_check(settings))
        audit_pb2_grpc.add_AuditServiceServicer_to_server(audit, server)
        return (SERVICE_NAME, AUDIT_SERVICE_NAME)

    def consumers(deps: Deps) -> Sequence[Consumer]:
        return confirmations.consumers(deps, made[-1])

    return Runtime(
        settings, register, consumers=consumers, policies=[POLICY, AUDIT_POLICY], audited=AUDITED, bounds=BOUNDS
    )
