"""Composition root: wires the notifier's adapters into a runtime. Nothing
connects until the runtime starts."""

from __future__ import annotations

from collections.abc import Sequence

from grpc import aio

from alongside.api.notifier.v1 import notifier_pb2, notifier_pb2_grpc
from alongside.kit.runtime import Deps, Runtime
from alongside.notifier.entrypoints.grpc_api import NotifierServicer
from alongside.notifier.settings import NotifierSettings

SERVICE_NAME = notifier_pb2.DESCRIPTOR.services_by_name["NotifierService"].full_name


def register(deps: Deps, server: aio.Server) -> Sequence[str]:
    notifier_pb2_grpc.add_NotifierServiceServicer_to_server(NotifierServicer(), server)
    return (SERVICE_NAME,)


def build(settings: NotifierSettings) -> Runtime:
    return Runtime(settings, register)
