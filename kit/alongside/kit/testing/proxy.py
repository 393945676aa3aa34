"""A TCP proxy in front of Valkey that can lose a reply after the server ran the command.

``ReplyCutter`` forwards bytes both ways. Armed with a marker (say a function
name), the next requests that contain it still reach the server, which runs
them; the reply that comes back is dropped and both sides of that connection
are closed. The client sees a dead connection, never an answer: "the script
ran, the reply was lost". The reply's arrival is the proof that the server
executed the command (Valkey answers only after it has).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from urllib.parse import urlsplit, urlunsplit

_CHUNK = 1 << 16


class ReplyCutter:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream_url = parts
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 6379
        self._server: asyncio.Server | None = None
        self._marker = b""
        self._armed = 0
        self.cut = 0  # replies dropped so far
        self.port = 0

    @property
    def url(self) -> str:
        """``upstream_url`` with the proxy's address in it (same login, same db)."""
        parts = self._upstream_url
        login = parts.netloc.rpartition("@")[0]
        netloc = f"{login}@127.0.0.1:{self.port}" if login else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    async def __aenter__(self) -> ReplyCutter:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def arm(self, marker: bytes, times: int = 1) -> None:
        """Lose the reply to each of the next ``times`` requests that contain ``marker``
        (within one read: fine for the small requests of a test)."""
        self._marker, self._armed = marker, times

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(self._host, self._port)
        except OSError:
            client_w.close()
            return
        doomed = asyncio.Event()  # a marked request went through: lose what comes back

        async def upstream() -> None:
            while chunk := await client_r.read(_CHUNK):
                if self._armed and self._marker in chunk:
                    self._armed -= 1
                    doomed.set()
                server_w.write(chunk)
                await server_w.drain()

        async def downstream() -> None:
            while chunk := await server_r.read(_CHUNK):
                if doomed.is_set():
                    self.cut += 1
                    return  # the reply dies here; the connection with it
                client_w.write(chunk)
                await client_w.drain()

        pumps = [asyncio.ensure_future(_quietly(upstream())), asyncio.ensure_future(_quietly(downstream()))]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            for writer in (client_w, server_w):
                writer.close()


async def _quietly(pump: Awaitable[None]) -> None:
    """A pump ends when either side resets the connection; that is no error here."""
    with contextlib.suppress(OSError):
        await pump
