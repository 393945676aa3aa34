"""Composition root: wires the matcher's adapters into a runtime. Nothing
connects until the runtime starts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from grpc import aio

from alongside.api.audit.v1 import audit_pb2, audit_pb2_grpc
from alongside.api.matcher.v1 import matcher_pb2, matcher_pb2_grpc
from alongside.kit.runtime import Deps, Runtime
from alongside.matcher.adapters.roster_cache import RosterCache
from alongside.matcher.adapters.store import MatcherStore
from alongside.matcher.entrypoints.audit_api import AUDIT_POLICY, AuditServicer
from alongside.matcher.entrypoints.bounds import BOUNDS
from alongside.matcher.entrypoints.grpc_api import MatcherServicer
from alongside.matcher.entrypoints.policy import AUDITED, POLICY
from alongside.matcher.service.batch import Batch
from alongside.matcher.service.context import Context
from alongside.matcher.service.disclosure import Disclosure
from alongside.matcher.service.intake import Intake, Rematch
from alongside.matcher.service.queries import Queries
from alongside.matcher.service.roster import Roster
from alongside.matcher.settings import MatcherSettings

SERVICE_NAME = matcher_pb2.DESCRIPTOR.services_by_name["MatcherService"].full_name
AUDIT_SERVICE_NAME = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name


def utc_now() -> datetime:
    return datetime.now(UTC)


def build(settings: MatcherSettings, clock: Callable[[], datetime] = utc_now) -> Runtime:
    def register(deps: Deps, server: aio.Server) -> Sequence[str]:
        store = MatcherStore(deps.redis, deps.keys)
        ctx = Context(store, deps.uow, RosterCache(store), settings, clock)
        intake = Intake(ctx)
        rematch = Rematch(ctx, intake)
        deps.tasks.append(rematch.run)
        servicer = MatcherServicer(Roster(ctx), intake, Queries(ctx), Batch(ctx, intake), rematch, Disclosure(ctx))
        matcher_pb2_grpc.add_MatcherServiceServicer_to_server(servicer, server)
        audit_pb2_grpc.add_AuditServiceServicer_to_server(AuditServicer(deps.js, settings.namespace), server)
        return (SERVICE_NAME, AUDIT_SERVICE_NAME)

    return Runtime(settings, register, policies=[POLICY, AUDIT_POLICY], audited=AUDITED, bounds=BOUNDS)
