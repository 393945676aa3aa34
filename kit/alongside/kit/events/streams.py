"""The JetStream streams, one per aggregate, and their provisioning.

By default every service provisions the whole catalogue at start-up (adding
is idempotent), so a consumer never races the owner's first start. Where the
broker should not let services change streams (a compromised service could
otherwise shorten the audit trail's retention), an operator provisions them
(``alongside streams provision``) and the services, with
``PROVISION_STREAMS=false``, only check that they exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

DUPLICATE_WINDOW_S = 600.0


# The services that write an audit trail, each on its own subject
# <ns>.audit.<service>: the AUDIT stream takes these subjects and no other.
AUDITING_SERVICES = ("matcher", "scheduler", "notifier")


@dataclass(frozen=True)
class StreamSpec:
    name: str  # "MATCH"
    aggregate: str  # "match": carries subjects "<ns>.match.>"
    max_age_s: float = 30 * 24 * 3600.0
    # Append-only: messages can be neither deleted nor purged (audit).
    immutable: bool = False
    # The subjects under the aggregate it takes; every one ("<ns>.<aggregate>.>") when empty.
    only: tuple[str, ...] = ()

    def subjects(self, namespace: str) -> list[str]:
        return [f"{namespace}.{self.aggregate}.{tail}" for tail in self.only or (">",)]


CATALOGUE = (
    StreamSpec("PEER", "peer"),
    StreamSpec("MATCH", "match"),
    StreamSpec("SESSION", "session"),
    StreamSpec("NOTIFICATION", "notification"),
    StreamSpec("DLQ", "dlq", max_age_s=90 * 24 * 3600.0),
    # HIPAA keeps audit trails six years.
    StreamSpec("AUDIT", "audit", max_age_s=6 * 366 * 24 * 3600.0, immutable=True, only=AUDITING_SERVICES),
)


def stream_name(namespace: str, spec: StreamSpec) -> str:
    return f"{namespace.upper().replace('-', '_')}_{spec.name}"


def stream_config(namespace: str, spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=stream_name(namespace, spec),
        subjects=spec.subjects(namespace),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=spec.max_age_s,
        duplicate_window=DUPLICATE_WINDOW_S,
        num_replicas=replicas,
        deny_delete=spec.immutable,
        deny_purge=spec.immutable,
    )


class MissingStreams(Exception):
    """Streams of the catalogue that do not exist (and this process may not create)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(
            f"JetStream streams missing: {', '.join(names)}; provision them "
            "(alongside streams provision) or start with PROVISION_STREAMS=true"
        )
        self.names = names


async def require(js: JetStreamContext, namespace: str) -> None:
    """Raise ``MissingStreams`` unless every stream of the catalogue exists."""
    missing = []
    for spec in CATALOGUE:
        try:
            await js.stream_info(stream_name(namespace, spec))
        except NotFoundError:
            missing.append(stream_name(namespace, spec))
    if missing:
        raise MissingStreams(missing)


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
