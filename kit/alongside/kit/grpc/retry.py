"""Client retries for the calls that are safe to repeat: gRPC's own service config.

Every mutating RPC takes an idempotency key, and a replay returns the first
answer: such a call may be sent again when the service answered UNAVAILABLE
(a dependency was down, a replica was stopping, a Valkey failover was under
way). The channel options below make gRPC retry exactly those methods, the
ones whose request has an ``idempotency_key`` field, found in the generated
descriptors, with backoff (about 6 s in all, enough to ride out a Sentinel
failover), and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import ServiceDescriptor

from alongside.api.matcher.v1 import matcher_pb2
from alongside.api.notifier.v1 import notifier_pb2
from alongside.api.scheduler.v1 import scheduler_pb2

IDEMPOTENCY_FIELD = "idempotency_key"
POLICY = {
    "maxAttempts": 5,
    "initialBackoff": "0.4s",
    "maxBackoff": "3s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


def services() -> list[ServiceDescriptor]:
    return [
        module.DESCRIPTOR.services_by_name[name]
        for module in (matcher_pb2, scheduler_pb2, notifier_pb2)
        for name in module.DESCRIPTOR.services_by_name
    ]


def idempotent_methods(descriptors: Iterable[ServiceDescriptor]) -> list[tuple[str, str]]:
    """(full service name, method) of every RPC whose request carries an idempotency key."""
    return [
        (service.full_name, method.name)
        for service in descriptors
        for method in service.methods
        if IDEMPOTENCY_FIELD in method.input_type.fields_by_name
    ]


def service_config(descriptors: Iterable[ServiceDescriptor] | None = None) -> str:
    methods = idempotent_methods(services() if descriptors is None else descriptors)
    names = [{"service": service, "method": method} for service, method in methods]
    return json.dumps({"methodConfig": [{"name": names, "retryPolicy": POLICY}]})


def channel_options() -> list[tuple[str, Any]]:
    """Options for ``grpc.insecure_channel`` / ``aio.secure_channel``: retry idempotent calls on UNAVAILABLE."""
    return [("grpc.enable_retries", 1), ("grpc.service_config", service_config())]
