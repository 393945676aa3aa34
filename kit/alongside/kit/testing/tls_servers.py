"""Brokers behind TLS, for tests of ``alongside.kit.broker_tls``.

``TlsNatsServer`` is nats-server with a ``tls`` block (TLS-first, and client
certificates when ``verify``). The pip-installed valkey-server is built
without TLS ("Failed finding TLS support" for ``--tls-port``), so
``TlsTerminator`` stands in front of a real Valkey, as stunnel would: it
takes TLS (requiring a client certificate when given a CA) and forwards the
plain bytes. What the clients see is a real TLS server with a real Valkey
behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from alongside.kit.testing.servers import NatsServer, nats_binary

_CHUNK = 1 << 16


class TlsNatsServer(NatsServer):
    """nats-server on 127.0.0.1 with JetStream, taking TLS only (handshake first)."""

    name = "nats-tls"

    def __init__(self, cert: Path, key: Path, client_ca: Path | None = None) -> None:
        super().__init__()
        self._cert, self._key, self._client_ca = cert, key, client_ca

    @property
    def url(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        verify = f'ca_file: "{self._client_ca}"\n    verify: true\n' if self._client_ca else ""
        config = self.root / "nats.conf"
        config.write_text(
            f'jetstream {{ store_dir: "{self.root / "jetstream"}" }}\n'
            f'tls {{\n    cert_file: "{self._cert}"\n    key_file: "{self._key}"\n'
            f"    {verify}    handshake_first: true\n    timeout: 2\n}}\n"
        )
        return [nats_binary(), "-c", str(config), "-a", "127.0.0.1", "-p", str(self.port), "-m", "0"]


class TlsTerminator:
    """TLS on 127.0.0.1, plain TCP to ``upstream_url``'s host and port."""

    def __init__(self, upstream_url: str, cert: Path, key: Path, client_ca: Path | None = None) -> None:
        parts = urlsplit(upstream_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 6379
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)
        if client_ca is not None:
            self._context.load_verify_locations(client_ca)
            self._context.verify_mode = ssl.CERT_REQUIRED
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self.port = 0
        self.handshakes = 0  # connections that completed TLS

    async def __aenter__(self) -> TlsTerminator:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for pump in list(self._pumps):
            pump.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        try:
            server_r, server_w = await asyncio.open_connection(self._host, self._port)
        except OSError:
            client_w.close()
            return
        pumps = [asyncio.create_task(_pump(client_r, server_w)), asyncio.create_task(_pump(server_r, client_w))]
        self._pumps.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
            self._pumps.discard(pump)
        for writer in (client_w, server_w):
            writer.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError, ssl.SSLError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
