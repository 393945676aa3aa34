"""A week's plan is one span with the solver's status, gap and time (tracing on)."""

from __future__ import annotations

from alongside.api.scheduler.v1 import scheduler_pb2 as pb
from alongside.kit.testing.spans import recording

from .conftest import Scheduler, ts, window
from .test_planner import WEEK, item


async def test_planning_a_week_is_a_solver_span_with_its_outcome(scheduler: Scheduler) -> None:
    await scheduler.peer("p1", "America/New_York", [window(d, 9, 12) for d in range(1, 6)])
    with recording() as exported:
        plan = await scheduler.stub.PlanWeek(pb.PlanWeekRequest(week_start=ts(WEEK), items=[item("m1"), item("m2")]))
        (span,) = [s for s in exported.get_finished_spans() if s.name == "solve planner"]
    assert span.attributes is not None
    assert span.attributes["alongside.solver.size"] == 2
    assert span.attributes["alongside.solver.status"] == plan.solver_status == "OPTIMAL"
    assert span.attributes["alongside.solver.gap"] == plan.gap
    assert span.attributes["alongside.solver.seconds"] == plan.seconds
