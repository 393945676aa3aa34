"""NATS connection that never gives up reconnecting.

nats-py stops after 60 attempts by default (about two minutes); a service must
ride out a broker restart of any length, so reconnects are unlimited.

Each service takes its replies (JetStream acks, pulled events) on inboxes
of its own, ``_INBOX_<service>.>``, so a broker can let each service user
subscribe to its own replies only (deploy/nats/nats-server.conf).

A ``tls://`` URL connects TLS-first, verified against ``tls``'s CA
(``alongside.kit.broker_tls``); a certificate that does not verify stops the
start at once (as does a server that offers no TLS), as no retry will change it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from nats.aio.client import Client

from alongside.kit.broker_tls import NATS_PREFIX, BrokerTls, does_not_verify, nats_options
from alongside.kit.logging import get_logger

log = get_logger(__name__)


def inbox_prefix(name: str) -> str:
    """Where ``name``'s replies arrive: one subject token, never shared."""
    token = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return f"_INBOX_{token}"


async def connect(url: str, name: str, *, tls: BrokerTls | None = None, startup_timeout_s: float = 30.0) -> Client:
    """A connection to NATS, or ``ConnectionError`` after ``startup_timeout_s`` (at
    once for a TLS handshake that fails). nats-py itself, told to reconnect
    forever, also retries the first connection forever, reporting each failure
    only to ``error_cb``: the deadline and the TLS check are kept here."""
    secure = nats_options(url, tls or BrokerTls(NATS_PREFIX))  # a bad setting fails before any attempt
    tls_failed: asyncio.Future[ssl.SSLError] = asyncio.get_running_loop().create_future()

    async def on_error(exc: Exception) -> None:
        log.warning("nats.error", error=type(exc).__name__)
        if isinstance(exc, ssl.SSLError) and not tls_failed.done():
            tls_failed.set_result(exc)

    async def on_disconnect() -> None:
        log.warning("nats.disconnected")

    async def on_reconnect() -> None:
        log.info("nats.reconnected")

    nc = Client()
    connecting = asyncio.ensure_future(
        nc.connect(
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
            **secure,
        )
    )
    await asyncio.wait((connecting, tls_failed), timeout=startup_timeout_s, return_when=asyncio.FIRST_COMPLETED)
    if connecting.done():
        connecting.result()  # raises what nats-py raised
        return nc
    connecting.cancel()
    with contextlib.suppress(BaseException):
        await connecting
    with contextlib.suppress(Exception):
        await asyncio.wait_for(nc.close(), 1.0)
    if tls_failed.done():
        raise ConnectionError(tls_failure(tls_failed.result()))
    error = type(nc.last_error).__name__ if nc.last_error else "no answer"
    raise ConnectionError(f"cannot reach NATS at start-up within {startup_timeout_s:g} s ({error})")


def tls_failure(exc: ssl.SSLError) -> str:
    """What a failed TLS handshake with NATS means, for an operator."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return does_not_verify("NATS", NATS_PREFIX, "NATS_URL", exc)
    reason = exc.reason or type(exc).__name__
    if "CERTIFICATE_REQUIRED" in reason or "BAD_CERTIFICATE" in reason or "UNKNOWN_CA" in reason:
        return (
            f"NATS refused this client's certificate ({reason}): it requires one from its CA, "
            f"in {NATS_PREFIX}_CERT_FILE and {NATS_PREFIX}_KEY_FILE"
        )
    return (
        f"no TLS handshake with NATS ({reason}): NATS_URL says tls://, so the server "
        "needs a tls block with handshake_first"
    )
