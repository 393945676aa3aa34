"""Composition root: wires the matcher's adapters into a runtime. Nothing
connects until the runtime starts."""

from __future__ import annotations

from collections.abc import Sequence

from grpc import aio

from alongside.api.matcher.v1 import matcher_pb2, matcher_pb2_grpc
from alongside.kit.runtime import Deps, Runtime
from alongside.matcher.entrypoints.grpc_api import MatcherServicer
from alongside.matcher.settings import MatcherSettings

SERVICE_NAME = matcher_pb2.DESCRIPTOR.services_by_name["MatcherService"].full_name


def register(deps: Deps, server: aio.Server) -> Sequence[str]:
    matcher_pb2_grpc.add_MatcherServiceServicer_to_server(MatcherServicer(), server)
    return (SERVICE_NAME,)


def build(settings: MatcherSettings) -> Runtime:
    return Runtime(settings, register)
