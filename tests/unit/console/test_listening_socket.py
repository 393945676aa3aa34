"""The console's socket: the connections it accepts send without delay (TCP_NODELAY).

Without it a page reached the browser 40 ms after the server had finished
(Nagle's algorithm against the browser's delayed ACK; bench/console_pages.py).
"""

from __future__ import annotations

import asyncio
import socket

from alongside.console.__main__ import listening_socket


async def test_accepted_connections_have_no_delay() -> None:
    sock = listening_socket("127.0.0.1", 0)
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=sock)
    try:
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        assert await asyncio.wait_for(seen, 5) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
