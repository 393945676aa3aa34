"""The JetStream streams, one per aggregate, and their provisioning.

Every service provisions the whole catalogue at start-up (adding is
idempotent), so a consumer never races the owner's first start.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

DUPLICATE_WINDOW_S = 600.0


@dataclass(frozen=True)
class StreamSpec:
    name: str  # "MATCH"
    aggregate: str  # "match": carries subjects "<ns>.match.>"
    max_age_s: float = 30 * 24 * 3600.0
    # Append-only: messages can be neither deleted nor purged (audit).
    immutable: bool = False


CATALOGUE = (
    StreamSpec("PEER", "peer"),
    StreamSpec("MATCH", "match"),
    StreamSpec("SESSION", "session"),
    StreamSpec("NOTIFICATION", "notification"),
    StreamSpec("DLQ", "dlq", max_age_s=90 * 24 * 3600.0),
    # HIPAA keeps audit trails six years.
    StreamSpec("AUDIT", "audit", max_age_s=6 * 366 * 24 * 3600.0, immutable=True),
)


def stream_name(namespace: str, spec: StreamSpec) -> str:
    return f"{namespace.upper().replace('-', '_')}_{spec.name}"


def stream_config(namespace: str, spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=stream_name(namespace, spec),
        subjects=[f"{namespace}.{spec.aggregate}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=spec.max_age_s,
        duplicate_window=DUPLICATE_WINDOW_S,
        num_replicas=replicas,
        deny_delete=spec.immutable,
        deny_purge=spec.immutable,
    )


async def provision(js: JetStreamContext, namespace: str, replicas: int = 1) -> None:
    """Create or update every stream of the catalogue."""
    for spec in CATALOGUE:
        config = stream_config(namespace, spec, replicas)
        try:
            await js.stream_info(config.name or "")
            await js.update_stream(config)
        except NotFoundError:
            try:
                await js.add_stream(config)
            except BadRequestError:
                # Another replica created it between our two calls.
                await js.update_stream(config)
