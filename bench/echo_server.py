"""A bare grpc.aio echo service: the floor any real RPC is compared with.

Run as a child process by the RPC benchmarks; prints "listening on host:port".
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from grpc import aio

METHOD = "/bench.Echo/Echo"


async def _identity(request: bytes, context: Any) -> bytes:
    return request


async def serve() -> None:
    server = aio.server()
    handler = grpc.unary_unary_rpc_method_handler(_identity)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"echo listening on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve())
