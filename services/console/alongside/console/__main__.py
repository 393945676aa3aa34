"""`python -m alongside.console` (or the `alongside-console` script) runs the console.

It binds its socket itself, so ``CONSOLE_ADDR=127.0.0.1:0`` picks a free
port, and prints ``listening on host:port`` once it accepts connections.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import structlog
import uvicorn

from alongside.console.app import create_app
from alongside.console.rpc import channel_credentials
from alongside.console.settings import ConsoleSettings
from alongside.kit import logging, tracing
from alongside.kit.settings import ConfigError


def listening_socket(host: str, port: int) -> socket.socket:
    """The console's bound TCP socket.

    Made with ``IPPROTO_TCP`` named: asyncio sets TCP_NODELAY on the
    connections it accepts only when the socket says it is TCP. Without it,
    uvicorn's two writes per response (head, then body) met Nagle's algorithm
    and the browser's delayed ACK, and every page took 40 ms longer than the
    server spent on it (bench/console_pages.py showed it).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def main() -> int:
    try:
        settings = ConsoleSettings.from_env()
        channel_credentials(settings)  # unreadable TLS files stop start-up here, named
    except ConfigError as exc:
        print(f"alongside-console: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.configure("console", settings.log_level, final=True)
    try:
        provider = tracing.configure("console")  # off unless OTEL_* say (docs/tracing.md)
    except ConfigError as exc:
        print(f"alongside-console: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        sock = listening_socket(settings.host, settings.port)
    except OSError as exc:
        print(f"alongside-console: cannot listen on {settings.console_addr}: {exc}", file=sys.stderr)
        return 2
    config = uvicorn.Config(
        create_app(settings), log_config=None, access_log=False, server_header=False, proxy_headers=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    sock.listen(128)  # connections wait in the backlog until the server accepts them
    host, port = sock.getsockname()[:2]
    mode = "development sign-in ON" if settings.dev_sign_in else "sign-in by OpenID Connect"
    structlog.get_logger("alongside.console").info("console starting", mode=mode)
    print(f"console listening on {host}:{port}", flush=True)
    # uvicorn drains on SIGTERM or SIGINT, then raises the signal again to the
    # handler it found: this one, so a drained stop exits 0, as the services do.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stopped)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        if provider is not None:
            provider.shutdown()
    return 0


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    raise SystemExit(main())
