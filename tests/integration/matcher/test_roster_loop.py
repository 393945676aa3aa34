"""A large roster import is parsed and validated off the event loop: the
service keeps answering (health, other calls) while it runs."""

from __future__ import annotations

import asyncio
import time

import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb

from .conftest import Matcher

# The loop's longest stall, timed: make test runs this alone (serial).
pytestmark = pytest.mark.serial

HEADER = b"peer_id,display_name,types,languages,modalities,age_groups,time_zone,availability,capacity,status\n"
ROW = b"p-%d,Fake Person %d,recovery_coach;peer_navigator,en;es,phone;video,adult,America/Chicago,mon 09:00-12:00; tue 13:00-17:00,4,active\n"  # noqa: E501


async def test_a_20000_row_dry_run_does_not_stall_the_event_loop(matcher: Matcher) -> None:
    csv = HEADER + b"".join(ROW % (i, i) for i in range(20_000))
    worst = 0.0
    done = asyncio.Event()

    async def watch_the_loop() -> None:
        nonlocal worst
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - started)

    watcher = asyncio.create_task(watch_the_loop())
    started = time.perf_counter()
    reply = await matcher.stub.ImportRoster(pb.ImportRosterRequest(idempotency_key="big", csv=csv, dry_run=True))
    took = time.perf_counter() - started
    done.set()
    await watcher
    assert not reply.errors and reply.imported == 0
    # The loop (the test's and the matcher's: one process) never waited long,
    # though parsing took much longer than that.
    assert worst < max(0.25, took / 4), f"the event loop stalled {worst:.2f} s of {took:.2f} s"
