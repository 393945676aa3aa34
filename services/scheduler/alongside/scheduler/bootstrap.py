"""Composition root: wires the scheduler's adapters into a runtime. Nothing
connects until the runtime starts."""

from __future__ import annotations

from collections.abc import Sequence

from grpc import aio

from alongside.api.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from alongside.kit.runtime import Deps, Runtime
from alongside.scheduler.entrypoints.grpc_api import SchedulerServicer
from alongside.scheduler.settings import SchedulerSettings

SERVICE_NAME = scheduler_pb2.DESCRIPTOR.services_by_name["SchedulerService"].full_name


def register(deps: Deps, server: aio.Server) -> Sequence[str]:
    scheduler_pb2_grpc.add_SchedulerServiceServicer_to_server(SchedulerServicer(), server)
    return (SERVICE_NAME,)


def build(settings: SchedulerSettings) -> Runtime:
    return Runtime(settings, register)
