"""What "acknowledged means durable" costs: JetStream publishes with and without
``sync_interval: always``, and Valkey writes with and without WAIT/WAITAOF.

Run: ``python -m bench.durability`` (``--quick`` for a smoke run).

Part 1, NATS: two three-node clusters started side by side (one with
``sync_interval: always``, one with the default, which flushes every two
minutes), each with an R1 and an R3 stream; the same publishes go to each:
one at a time (latency) and 64 in flight (throughput), every one waiting for
its PubAck.

Part 2, Valkey: one primary with a replica and Sentinels (AOF ``always``),
the kit's idempotent write (``UnitOfWork.run_blind``: the group-committed
function call) and its MULTI/EXEC transaction (``UnitOfWork.run``), with
REDIS_MIN_REPLICAS 0 (no wait), 1 with WAIT, and 1 with WAITAOF.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import nats

from alongside.kit.durable import Durability
from alongside.kit.errors import Unavailable
from alongside.kit.events.outbox import Outbox
from alongside.kit.redis import Keys, client
from alongside.kit.testing.cluster import NatsCluster, ValkeyHA
from alongside.kit.testing.servers import provision_functions
from alongside.kit.uow import Idempotency, Tx, UnitOfWork

PAYLOAD = b"x" * 300  # about an event's size


async def _measure(
    call: Callable[[int], Awaitable[None]], count: int, concurrency: int
) -> tuple[float, float, int]:
    """Calls per second and median latency (ms) of ``count`` calls, ``concurrency``
    at a time, and how many answered UNAVAILABLE (a replica did not confirm in time)."""
    latencies: list[float] = []
    refused = 0
    queue = iter(range(count))

    async def worker() -> None:
        nonlocal refused
        for i in queue:
            started = time.perf_counter()
            try:
                await call(i)
            except Unavailable:
                refused += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return count / elapsed, statistics.median(latencies) * 1000, refused


async def _nats_rows(cluster: NatsCluster, label: str, count: int) -> list[str]:
    nc = await nats.connect(servers=cluster.url.split(","))
    js = nc.jetstream()
    rows = []
    try:
        for replicas in (1, 3):
            name = f"BENCH{replicas}_{uuid.uuid4().hex[:6]}"
            await js.add_stream(name=name, subjects=[f"{name}.>"], num_replicas=replicas)

            async def publish(i: int, name: str = name) -> None:
                await js.publish(f"{name}.e", PAYLOAD, headers={"Nats-Msg-Id": f"{name}-{i}-{uuid.uuid4().hex}"})

            await _measure(publish, count // 10, 8)  # warm-up
            for concurrency in (1, 64):
                rate, p50, _ = await _measure(publish, count, concurrency)
                rows.append(f"| {label} | R{replicas} | {concurrency} | {rate:,.0f} | {p50:.2f} |")
    finally:
        await nc.close()
    return rows


async def nats_part(count: int) -> None:
    print("\nJetStream publish, each waiting for its PubAck (3-node cluster)\n")
    print("| sync_interval | stream | in flight | publishes/s | p50 ms |\n|---|---|---|---|---|")
    with NatsCluster(sync_always=True) as always, NatsCluster(sync_always=False) as default:
        for cluster, label in ((default, "default (2 min)"), (always, "always")):
            for row in await _nats_rows(cluster, label, count):
                print(row, flush=True)


async def valkey_part(count: int) -> None:
    print("\nValkey writes through Sentinel (primary + replica, AOF always)\n")
    print("| wait | write | in flight | calls/s | p50 ms | UNAVAILABLE |\n|---|---|---|---|---|---|")
    with ValkeyHA() as ha:
        provision_functions(ha.admin_url)
        for label, durable in (
            ("none", Durability()),
            ("WAIT 1", Durability(1, 1000)),
            ("WAITAOF 1 1", Durability(1, 1000, aof=True)),
        ):
            r = client(ha.url, durable)
            keys = Keys("bench" + uuid.uuid4().hex[:6], "bench")
            uow = UnitOfWork(r, keys, Outbox(r, keys))

            async def blind(i: int, uow: UnitOfWork = uow, keys: Keys = keys) -> None:
                tag = uuid.uuid4().hex

                def body(tx: Tx) -> bytes:
                    tx.pipe.set(keys.key(tag, "state"), PAYLOAD)
                    return b"ok"

                await uow.run_blind(body, idempotency=Idempotency.of(tag, "Bench", tag, b"r"))

            async def transaction(i: int, uow: UnitOfWork = uow, keys: Keys = keys) -> None:
                tag = uuid.uuid4().hex

                async def body(tx: Tx) -> bytes:
                    await tx.watch(keys.key(tag, "state"))
                    tx.begin()
                    tx.pipe.set(keys.key(tag, "state"), PAYLOAD)
                    return b"ok"

                await uow.run(body, idempotency=Idempotency.of(tag, "Bench", tag, b"r"))

            try:
                for write_label, call in (("run_blind (function)", blind), ("run (MULTI/EXEC)", transaction)):
                    await _measure(call, count // 10, 8)  # warm-up
                    for concurrency in (1, 64):
                        rate, p50, refused = await _measure(call, count, concurrency)
                        print(
                            f"| {label} | {write_label} | {concurrency} | {rate:,.0f} | {p50:.2f} | {refused} |",
                            flush=True,
                        )
            finally:
                await r.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--count", type=int, default=3000, help="calls per row")
    args = parser.parse_args()
    count = 300 if args.quick else args.count
    asyncio.run(nats_part(count))
    asyncio.run(valkey_part(count))


if __name__ == "__main__":
    main()
