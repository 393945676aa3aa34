"""Runs the batch solver in a child process, so that stopping it takes milliseconds.

CP-SAT and the Lagrangian rounds are native or NumPy code that a thread
cannot interrupt: a caller that went away, a cancel or SIGTERM used to leave
the solve running on every core until its time limit. A child process is
killed instead, at any moment, whatever phase it is in.

Children are forked from a fork server (``multiprocessing`` "forkserver")
that has the solver already imported, so a solve starts in milliseconds and
no child is ever forked from the service's own threads (gRPC, the event
loop). The problem goes to the child pickled; progress reports and the
result come back over a pipe, read by a thread that hands each report on.
The fork server needs a writable temporary folder for its socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import structlog

from alongside.kit.errors import InvalidArgument, Unavailable
from alongside.matcher.domain.solver import BatchProblem, BatchResult, Report, solve

SOLVER_MODULE = "alongside.matcher.domain.solver"
KILL_WAIT_S = 1.0
EXIT_WAIT_S = 0.5  # a child that has sent its result exits by itself
log = structlog.get_logger(__name__)


class SolverStopped(Unavailable):
    """The solve was stopped by the service stopping (its caller may run the batch again)."""


def _context() -> multiprocessing.context.ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([SOLVER_MODULE])  # read when the fork server first starts
    return ctx


def _child(conn: Connection, problem: BatchProblem, time_limit_s: float) -> None:
    """In the child: solve, sending each report and then the result (or the refusal) up the pipe."""

    def report(progress: object) -> None:
        conn.send(("progress", progress))

    try:
        result = solve(problem, time_limit_s=time_limit_s, report=report)
    except InvalidArgument as exc:
        conn.send(("invalid", exc.field, exc.message.removeprefix(f"{exc.field}: ")))
        return
    except Exception as exc:  # noqa: BLE001 - the service logs and reports it
        conn.send(("crashed", type(exc).__name__))
        return
    conn.send(("result", result))


def _receive(conn: Connection, report: Report) -> BatchResult:
    """In a thread of the service: the child's reports, until its result. Closes ``conn``."""
    with conn:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                raise SolverStopped("the solver stopped before the batch finished; run it again") from None
            kind = message[0]
            if kind == "progress":
                report(message[1])
            elif kind == "invalid":
                raise InvalidArgument(message[1], message[2])
            elif kind == "crashed":
                raise SolverCrashed(message[1])
            else:
                result: BatchResult = message[1]
                return result


class SolverCrashed(RuntimeError):
    """The solver raised an unforeseen error (its type name is the message)."""


class Solvers:
    """This replica's running solver processes; ``stop_all`` kills them (the service is stopping)."""

    def __init__(self) -> None:
        self._running: set[BaseProcess] = set()
        self._stopped = False

    def pids(self) -> list[int]:
        return [p.pid for p in self._running if p.pid is not None]

    async def solve(self, problem: BatchProblem, time_limit_s: float, report: Report) -> BatchResult:
        """``solve`` in a child; cancelling the awaiting task kills the child at once."""
        if self._stopped:
            raise SolverStopped("the matcher is stopping; run the batch again")
        ctx = _context()
        reader, writer = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(writer, problem, time_limit_s), daemon=True, name="batch-solver")
        self._running.add(proc)
        # Writing the problem to the child takes a while for a big one: not on the loop. A cancel
        # meanwhile still waits for the start, so that no child is left running unowned.
        starting = asyncio.ensure_future(asyncio.to_thread(proc.start))
        receiving = answered = False
        try:
            await asyncio.shield(starting)
            writer.close()
            if self._stopped:  # ``stop_all`` came while it started
                raise SolverStopped("the matcher is stopping; run the batch again")
            receiving = True  # from here the reading thread closes ``reader``
            result = await asyncio.to_thread(_receive, reader, report)
            answered = True
            return result
        finally:
            with contextlib.suppress(BaseException):
                await starting
            writer.close()
            self._running.discard(proc)
            await _end(proc, EXIT_WAIT_S if answered else 0.0)
            if not receiving:
                reader.close()

    def stop_all(self) -> None:
        """Kill every running solver; each ``solve`` then ends with ``SolverStopped``."""
        self._stopped = True
        for proc in list(self._running):
            with contextlib.suppress(ValueError, AttributeError):  # closed, or not started yet
                proc.kill()
        if self._running:
            log.info("batch.solvers_stopped", count=len(self._running))


async def _end(proc: BaseProcess, wait_s: float) -> None:
    """Give ``proc`` ``wait_s`` to exit, kill it if it still runs, and wait (off the loop) until it has gone."""
    if proc.pid is None:
        return
    if wait_s:
        await asyncio.to_thread(proc.join, wait_s)
    started = time.monotonic()
    alive = proc.is_alive()
    if alive:
        proc.kill()  # it holds nothing but its pipe: no need to let it tidy up
    await asyncio.to_thread(proc.join, KILL_WAIT_S)
    if alive:
        log.info("batch.solver_killed", ms=round((time.monotonic() - started) * 1000, 1))
    with contextlib.suppress(ValueError):  # still running after all: left to the fork server
        proc.close()
