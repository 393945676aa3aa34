"""``alongside batch run`` shows the solve's progress, and Ctrl-C cancels the run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import TEST_SECRET, channel
from alongside.kit.testing.processes import as_terminal_job
from alongside.kit.testing.wait import eventually
from alongside.matcher.service.batch import Batch

from ..matcher.batch_load import SOLVER_STOP_S, cpu_seconds, gone_after, hard_batch
from .conftest import Stack


def batch_of(stack: Stack) -> Batch:
    deps = stack.runtimes[0].deps
    assert deps is not None
    found: Batch = next(t.__self__ for t in deps.tasks if isinstance(getattr(t, "__self__", None), Batch))  # type: ignore[attr-defined]
    return found


class Drained:
    """Everything a pipe delivers, read as it comes on a thread of its own (a bar redrawn in place
    never ends a line, so reading lines would wait)."""

    def __init__(self, fd: int) -> None:
        self.chunks: list[bytes] = []
        self.done = threading.Event()
        threading.Thread(target=self._read, args=(fd,), daemon=True).start()

    def _read(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, 4096):
                self.chunks.append(chunk)
        finally:
            self.done.set()

    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")


def cli_env(stack: Stack) -> dict[str, str]:
    env = {**os.environ, "AUTH_HS256_SECRET": TEST_SECRET, "TTY_COMPATIBLE": "1", "COLUMNS": "200"}
    for name, value in stack.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.mark.serial  # Ctrl-C stops the solver within a second
async def test_batch_run_shows_progress_and_ctrl_c_cancels_it_within_a_second(matcher_only: Stack) -> None:
    tag = f"cc{uuid.uuid4().hex[:6]}"
    async with channel(f"127.0.0.1:{matcher_only.runtimes[0].port}", role="admin") as chan:
        ids = await hard_batch(matcher_pb2_grpc.MatcherServiceStub(chan), tag)
    flags = [flag for i in ids for flag in ("--request", i)]
    # As a terminal starts it: Ctrl-C reaches it even when the suite runs as a background job.
    command = as_terminal_job([sys.executable, "-m", "alongside.cli", "batch", "run", "--time-limit", "120", *flags])
    proc = await asyncio.to_thread(
        subprocess.Popen, command, env=cli_env(matcher_only), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None and proc.stdout is not None
    shown = Drained(proc.stderr.fileno())  # the progress bar, as it is drawn
    try:
        batch = batch_of(matcher_only)

        async def solving() -> bool:
            pids = batch._solvers.pids()
            return bool(pids) and all(cpu_seconds(p) > 1.0 for p in pids) and "gap" in shown.text()

        await eventually(solving, timeout=60, what="the CLI's batch solving, its bar showing the gap")
        pids = batch._solvers.pids()
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        await gone_after(pids)
        waited = time.monotonic() - interrupted
        await asyncio.to_thread(proc.wait, 30)
        shown.done.wait(10)
        out, err = proc.stdout.read().decode(), shown.text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"Ctrl-C -> solver gone: {waited:.3f} s")
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err, err
    # The progress bar said so: a solver phase (the Lagrangian bound, or CP-SAT
    # with its solutions) and the gap.
    assert ("CP-SAT" in err and "solutions" in err) or "Lagrangian bound" in err, err
    assert "gap" in err, err
    assert "Cancelling batch b" in err and "was cancelled: nothing was proposed" in err, err
    assert out == ""
    assert waited <= SOLVER_STOP_S


async def test_batch_watch_fetches_a_finished_batch_and_cancel_leaves_it_be(matcher_only: Stack) -> None:
    async with channel(f"127.0.0.1:{matcher_only.runtimes[0].port}", role="admin") as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        tag = f"cw{uuid.uuid4().hex[:6]}"
        ids = await hard_batch(stub, tag, peers=4, requests=6)
    flags = [flag for i in ids for flag in ("--request", i)]
    ran = await matcher_only.json("batch", "run", "--time-limit", "1", *flags)
    watched = await matcher_only.json("batch", "watch", ran["batch_id"])
    assert watched == ran  # the result, fetched again
    cancelled = await matcher_only.run("batch", "cancel", ran["batch_id"])
    assert cancelled.exit_code == 0, cancelled.output
    assert "had already ended (done): nothing changed" in cancelled.stderr
    again = await matcher_only.json("batch", "watch", ran["batch_id"])
    assert again == ran
