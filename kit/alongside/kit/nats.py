"""NATS connection that never gives up reconnecting.

nats-py stops after 60 attempts by default (about two minutes); a service must
ride out a broker restart of any length, so reconnects are unlimited.

Each service takes its replies (JetStream acks, pulled events) on inboxes
of its own, ``_INBOX_<service>.>``, so a broker can let each service user
subscribe to its own replies only (deploy/nats/nats-server.conf).
"""

from __future__ import annotations

import asyncio

import nats
from nats.aio.client import Client

from alongside.kit.logging import get_logger

log = get_logger(__name__)


def inbox_prefix(name: str) -> str:
    """Where ``name``'s replies arrive: one subject token, never shared."""
    token = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return f"_INBOX_{token}"


async def connect(url: str, name: str, *, startup_timeout_s: float = 30.0) -> Client:
    async def on_error(exc: Exception) -> None:
        log.warning("nats.error", error=type(exc).__name__)

    async def on_disconnect() -> None:
        log.warning("nats.disconnected")

    async def on_reconnect() -> None:
        log.info("nats.reconnected")

    loop = asyncio.get_running_loop()
    deadline = loop.time() + startup_timeout_s
    while True:
        try:
            return await nats.connect(
                servers=url.split(","),
                name=name,
                inbox_prefix=inbox_prefix(name),
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
            )
        except Exception as exc:
            if loop.time() >= deadline:
                raise ConnectionError(f"cannot reach NATS at start-up ({type(exc).__name__})") from exc
            await asyncio.sleep(0.5)
