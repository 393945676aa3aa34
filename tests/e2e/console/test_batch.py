"""The waiting-list journey: an intake whose funnel empties at a step, the
reason shown; a roster change gives the peer room; a manager runs a batch
(watching its progress arrive live), reviews the proposal with its explanation and the
peer's load before and after, and confirms."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from alongside.api.matcher.v1 import matcher_pb2 as mpb

from ...integration.matcher.batch_load import hard_batch
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
    # The progress comes live, step by step, before the review.
    log = page.locator("#batch-log li")
    await expect(log.first).to_contain_text("Queued", timeout=30_000)
    await expect(page.get_by_role("heading", name="Review the proposals")).to_be_visible(timeout=30_000)
    await manager.settled()
    phases = await log.evaluate_all("items => items.map(li => li.dataset.phase)")
    assert phases[0] == "queued" and "loading" in phases and phases[-1] == "done", phases
    # The log is above the review, which the last event brought.
    log_then_review = await page.evaluate(
        """() => !!(document.querySelector('#batch-log').compareDocumentPosition(
               document.querySelector('form[action="/batch/confirm"]')) & Node.DOCUMENT_POSITION_FOLLOWING)"""
    )
    assert log_then_review
    await expect(log.last).to_contain_text("1 request")
    row = page.locator(f"#proposal-{waiting.request_id}")
    await expect(row).to_contain_text(peer.display_name)
    await expect(row.locator("td").nth(4)).to_contain_text("1 of 2 units")  # the peer's load before
    await expect(row.locator("td").nth(5)).to_contain_text("2 of 2 units")  # and after this batch
    await expect(row).to_contain_text("+1 new participant")
    await expect(row).to_contain_text("acuity 1 unit")
    await expect(row.locator(".contributions li").first).to_be_visible()  # the explanation, as on the shortlist
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


async def test_a_batch_that_stops_says_why_in_place_of_the_review(open_window: OpenWindow) -> None:
    window: Browse = await open_window()
    await window.sign_in("manager", "manager-stopped")
    await window.visit("/batch")
    page = window.page
    await page.locator("#scope-chosen").check()
    await page.locator("#field-ids").fill("req-nobody-knows")
    await page.get_by_role("button", name="Run the batch").click()
    await expect(page.get_by_role("alert")).to_contain_text("request_ids[0]: match request not found", timeout=30_000)
    await expect(page.locator("#batch-log li").last).to_contain_text("Stopped")
    await window.settled()


async def test_a_manager_cancels_a_running_batch(api: Api, open_window: OpenWindow) -> None:
    ids = await hard_batch(api.matcher("manager"), f"ec{uuid.uuid4().hex[:6]}")
    window: Browse = await open_window()
    await window.sign_in("manager", "manager-cancel")
    await window.visit("/batch")
    page = window.page
    await page.locator("#scope-chosen").check()
    await page.locator("#field-ids").fill("\n".join(ids))
    await page.locator("#field-time_limit").fill("60")
    await page.get_by_role("button", name="Run the batch").click()
    await expect(page.locator('#batch-log li[data-phase="cpsat"]').first).to_be_visible(timeout=60_000)
    await page.get_by_role("button", name="Cancel the batch").click()
    await expect(page.get_by_role("alert")).to_contain_text("It was cancelled: nothing was proposed.", timeout=30_000)
    await expect(page.locator("#batch-log li").last).to_contain_text("Batch cancelled")
    await expect(page.get_by_role("button", name="Cancel the batch")).to_have_count(0)
    await window.settled()
