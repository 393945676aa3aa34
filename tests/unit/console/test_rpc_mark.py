"""The console's session marks reach the scheduler's own RPC: attended and no-show."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.console.rpc import Calls


class Scheduler:
    """Stands in for the generated stub: records which RPC was called with what."""

    def __init__(self) -> None:
        self.called: list[tuple[str, str]] = []

    async def MarkAttended(self, request: spb.MarkAttendedRequest, **_: Any) -> spb.MarkAttendedResponse:
        self.called.append(("MarkAttended", request.session_id))
        return spb.MarkAttendedResponse(session=spb.Session(session_id=request.session_id))

    async def MarkNoShow(self, request: spb.MarkNoShowRequest, **_: Any) -> spb.MarkNoShowResponse:
        self.called.append(("MarkNoShow", request.session_id))
        return spb.MarkNoShowResponse(session=spb.Session(session_id=request.session_id))


async def test_attended_and_no_show_each_call_their_own_rpc() -> None:
    scheduler = Scheduler()
    backends: Any = SimpleNamespace(scheduler=scheduler, settings=SimpleNamespace(rpc_timeout_seconds=5.0))
    calls = Calls(backends, "token")
    assert (await calls.mark("s-1", True, "k1")).session_id == "s-1"
    assert (await calls.mark("s-2", False, "k2")).session_id == "s-2"
    assert scheduler.called == [("MarkAttended", "s-1"), ("MarkNoShow", "s-2")]
