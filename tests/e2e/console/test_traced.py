"""The console's calls are traced too: each page's gRPC calls are client
spans whose server spans continue them in the services (the e2e stack
exports both to its receiver, and the privacy checks read every span)."""

from __future__ import annotations

from alongside.kit.testing.wait import eventually

from ..cohort import Cohort
from ..conftest import Stack
from .conftest import Browse, OpenWindow

CLIENT, SERVER = 3, 2  # OTLP span kinds


async def test_a_page_s_calls_are_client_spans_continued_by_the_services(
    open_window: OpenWindow, stack: Stack
) -> None:
    cohort = Cohort()
    before = {s.span_id for s in stack.collector.everything()}
    manager: Browse = await open_window()
    await manager.sign_in("manager", f"staff-{cohort.tag}")
    await manager.visit("/roster")

    def continued() -> bool:
        spans = [s for s in stack.collector.everything() if s.span_id not in before]
        calls = {s.span_id for s in spans if s.service == "console" and s.kind == CLIENT}
        return any(s.kind == SERVER and s.service == "matcher" and s.parent_id in calls for s in spans)

    await eventually(continued, timeout=20, what="a console call's span continued by the matcher's")
