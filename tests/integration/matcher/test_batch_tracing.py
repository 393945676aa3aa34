"""A batch run is one span with the solver's status, gap and time (tracing on)."""

from __future__ import annotations

import pytest

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.testing.spans import recording

from .conftest import Matcher, intake, peer, upsert


async def test_a_batch_run_is_a_solver_span_with_its_outcome(matcher: Matcher) -> None:
    await upsert(matcher, peer("p1", capacity=2))
    ids = [(await matcher.stub.SubmitMatchRequest(intake(k))).request.request_id for k in ("a", "b")]
    with recording() as exported:
        request = pb.RunBatchMatchRequest(idempotency_key="traced", request_ids=ids, time_limit_seconds=5)
        run = (await matcher.stub.RunBatchMatch(request)).run
        (span,) = [s for s in exported.get_finished_spans() if s.name == "solve batch"]
    assert span.attributes is not None
    assert span.attributes["alongside.solver"] == "batch"
    assert span.attributes["alongside.solver.size"] == 2
    assert span.attributes["alongside.solver.status"] == run.solver_status == "OPTIMAL"
    assert span.attributes["alongside.solver.gap"] == pytest.approx(run.gap)
    assert span.attributes["alongside.solver.seconds"] == pytest.approx(run.seconds)
