"""One journey is one trace across the three service processes.

The test is the caller: its calls run in a span of its own (the SDK's
in-memory exporter) and carry the trace context in their metadata. The
services export their spans by OTLP to the stack's receiver. The trace must
run from SubmitMatchRequest through AcceptMatch, the relay's publish, the
scheduler booking the first session by itself, its publish, the notifier
handling it and the email sent, every span's parent inside the trace; and
no span may hold a planted personal value or an id of the people involved.
"""

from __future__ import annotations

import grpc
import pytest

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.kit import tracing
from alongside.kit.testing.spans import Received, recording
from alongside.kit.testing.wait import eventually

from .api import Api
from .cohort import Cohort
from .conftest import Stack
from .observe import leaks

MATCHER = "/alongside.matcher.v1.MatcherService/"
# (service, span name) of every hop the journey must show.
HOPS = {
    ("matcher", MATCHER + "SubmitMatchRequest"),
    ("matcher", MATCHER + "AcceptMatch"),
    ("matcher", "publish match.accepted"),
    ("scheduler", "process match.accepted"),
    ("scheduler", "publish session.booked"),
    ("notifier", "process match.accepted"),
    ("notifier", "process session.booked"),
    ("notifier", "deliver email"),
    ("notifier", "smtp send"),
}


def hops(spans: list[Received]) -> set[tuple[str, str]]:
    return {(s.service, s.name) for s in spans}


async def test_the_journey_from_intake_to_email_is_one_trace(stack: Stack) -> None:
    cohort = Cohort()
    peer = cohort.peer(1)
    with recording() as client_spans:
        api = Api(stack.address, stack.canaries)  # channels made now carry the trace context
        try:
            await api.enrol(cohort, peer)
            with tracing.span("journey") as root:
                request = await api.submit(cohort.intake("traced"))
                match = await api.accept(request.request_id, peer.peer_id)
            await api.told(peer.peer_id, npb.KIND_ASSIGNMENT_NEW, npb.KIND_SESSION_BOOKED)
        finally:
            await api.close()
        mine = [s.to_json() for s in client_spans.get_finished_spans()]
    trace_id = format(root.get_span_context().trace_id, "032x")

    known = {format(s.context.span_id, "016x") for s in client_spans.get_finished_spans()}

    def orphans(spans: list[Received]) -> list[tuple[str, str]]:
        """Spans whose parent is not in the trace (yet: a parent ends, and is exported, after its children)."""
        ids = {s.span_id for s in spans} | known
        return [(s.service, s.name) for s in spans if s.parent_id not in ids]

    def emails(spans: list[Received]) -> int:
        return sum(1 for s in spans if s.name == "smtp send")

    def complete() -> bool:
        spans = stack.collector.trace(trace_id)
        # Two emails (the assignment and the booked session), each its own delivery in this trace:
        # the second one's span may be exported after every hop's.
        return hops(spans) >= HOPS and not orphans(spans) and emails(spans) >= 2

    await eventually(
        complete, timeout=30, what="every hop of the journey and both emails exported in its trace, every parent too"
    )
    spans = stack.collector.trace(trace_id)
    assert emails(spans) >= 2
    booked = [s for s in spans if s.name == "process match.accepted" and s.service == "scheduler"]
    assert booked[0].attributes["alongside.outcome"] == "handled"
    server = [s for s in spans if s.name == MATCHER + "AcceptMatch"]
    assert server[0].attributes["rpc.grpc.status_code"] == 0

    # Nothing about the people: no planted value, no id of the participant, peer, request or match.
    personal = {peer.display_name, cohort.email(1), f"ref-{cohort.tag}-traced"}
    ids_of_people = {peer.peer_id, request.request_id, match.match_id}
    for text in [s.text for s in spans] + mine:
        assert leaks(text, personal | ids_of_people) == []


async def test_a_refused_call_is_a_server_span_with_its_status_code(stack: Stack) -> None:
    with recording():
        api = Api(stack.address, stack.canaries)
        try:
            with tracing.span("refused") as root:
                bad = mpb.SubmitMatchRequestRequest(idempotency_key="")
                with pytest.raises(grpc.aio.AioRpcError):
                    await api.matcher().SubmitMatchRequest(bad)
        finally:
            await api.close()
    trace_id = format(root.get_span_context().trace_id, "032x")
    name = MATCHER + "SubmitMatchRequest"
    await eventually(lambda: any(s.name == name for s in stack.collector.trace(trace_id)), what="the server span")
    (span,) = [s for s in stack.collector.trace(trace_id) if s.name == name]
    assert span.attributes["rpc.grpc.status_code"] == 3  # INVALID_ARGUMENT
    # The caller's mistake, not the server's: no error status (OpenTelemetry's gRPC conventions).
    assert '"STATUS_CODE_ERROR"' not in span.text
