"""The waiting-list journey: an intake whose funnel empties at a step, the
reason shown; a roster change gives the peer room; a manager runs a batch
(watching it run), reviews the proposal with the peer's load, and confirms."""

from __future__ import annotations

from playwright.async_api import expect

from alongside.api.matcher.v1 import matcher_pb2 as mpb

from ..api import Api
from ..cohort import Cohort, key
from .conftest import Browse, OpenWindow


async def test_a_manager_batches_a_waiting_request_after_a_roster_change(
    api: Api, open_window: OpenWindow, planted: set[str]
) -> None:
    cohort = Cohort()
    peer = cohort.peer(1, capacity=1)
    await api.enrol(cohort, peer, email=False)
    first = await api.submit(cohort.intake("first"))
    await api.accept(first.request_id, peer.peer_id)  # the only peer is now full
    waiting = await api.submit(cohort.intake("waiting"))
    assert waiting.status == mpb.REQUEST_STATUS_WAITLISTED
    planted.update({f"ref-{cohort.tag}-first", f"ref-{cohort.tag}-waiting"})

    staff: Browse = await open_window()
    await staff.sign_in("intake", f"staff-{cohort.tag}")
    await staff.visit(f"/intake/requests/{waiting.request_id}")
    emptied = staff.page.locator(".funnel .step.emptied")
    await expect(emptied).to_contain_text("caseload")

    # The roster changes: the peer can take one more.
    more = mpb.UpsertPeerRequest(idempotency_key=key(), peer=cohort.peer(1, capacity=2))
    await api.matcher("manager").UpsertPeer(more)

    manager: Browse = await open_window()
    await manager.sign_in("manager", f"manager-{cohort.tag}")
    await manager.visit("/batch")
    page = manager.page
    await page.locator("#scope-chosen").check()
    await page.locator("#field-ids").fill(waiting.request_id)
    await page.locator("#field-time_limit").fill("5")
    await page.get_by_role("button", name="Run the batch").click()
    await expect(page.get_by_role("heading", name="Review the proposals")).to_be_visible(timeout=30_000)
    await manager.settled()
    row = page.locator(f"#proposal-{waiting.request_id}")
    await expect(row).to_contain_text(peer.display_name)
    await expect(row).to_contain_text("1 of 2 units")
    await expect(row).to_contain_text("+1 new participant")
    await manager.shot("batch-review")
    await page.get_by_role("button", name="Confirm the ticked proposals").click()
    await expect(page.get_by_role("heading", name="1 match confirmed")).to_be_visible()
    await manager.settled()
    await expect(page.locator(".confirmed")).to_contain_text(f"{waiting.request_id} → {peer.peer_id}")
    state = await api.matcher().GetIntake(mpb.GetIntakeRequest(request_id=waiting.request_id))
    assert state.request.status == mpb.REQUEST_STATUS_MATCHED


async def test_malformed_request_ids_are_refused_beside_the_field(api: Api, open_window: OpenWindow) -> None:
    window: Browse = await open_window()
    await window.sign_in("manager", "manager-untick")
    await window.visit("/batch")
    page = window.page
    await page.locator("#scope-chosen").check()
    await page.locator("#field-ids").fill("not a valid id!")
    await page.get_by_role("button", name="Run the batch").click()
    await expect(page.locator("#error-ids")).to_contain_text("List one or more request ids")
    await window.settled()
