"""The solver in a child process: the same answer as in this one, its reports and refusals
carried back, and a cancel that kills it at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.solver import Progress, solve
from alongside.matcher.domain.solver import progress as phases
from alongside.matcher.service.solver_process import Solvers, SolverStopped
from tests.unit.matcher.test_solver_gap import gap_problem


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def test_a_child_gives_the_same_answer_and_its_reports() -> None:
    problem = gap_problem([[5, 4], [6, 2]], [1, 1], [1, 1])
    heard: list[Progress] = []
    result = await Solvers().solve(problem, 5.0, heard.append)
    here = solve(problem, time_limit_s=5.0)
    assert result.assignment.tolist() == here.assignment.tolist() and result.objective == here.objective
    assert [p.phase for p in heard] == [phases.FLOW]


async def test_a_refusal_comes_back_naming_the_field() -> None:
    with pytest.raises(InvalidArgument) as info:
        await Solvers().solve(gap_problem([[5]], [1], [1]), 0.0, lambda _: None)
    assert info.value.field == "time_limit_s" and info.value.message.startswith("time_limit_s: ")


@pytest.mark.serial  # killed within 1 s
async def test_cancelling_the_caller_kills_the_child_at_once() -> None:
    rng = np.random.default_rng(3)
    problem = gap_problem(
        rng.uniform(1, 10, (300, 40)).round(2).tolist(), rng.integers(1, 4, (300, 40)).tolist(), [8] * 40
    )
    solvers = Solvers()
    cp_sat = asyncio.Event()
    loop = asyncio.get_running_loop()

    def heard(p: Progress) -> None:
        if p.phase == phases.CP_SAT:
            loop.call_soon_threadsafe(cp_sat.set)

    task = asyncio.create_task(solvers.solve(problem, 120.0, heard))
    await asyncio.wait_for(cp_sat.wait(), 60)
    [pid] = solvers.pids()
    cancelled = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - cancelled < 1.0 and not alive(pid)
    assert solvers.pids() == []


async def test_after_stop_all_no_solve_starts() -> None:
    solvers = Solvers()
    solvers.stop_all()
    with pytest.raises(SolverStopped):
        await solvers.solve(gap_problem([[5]], [1], [1]), 1.0, lambda _: None)
