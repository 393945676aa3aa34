"""Intake in the browser: sign in as intake -> new intake (validated as you
type, availability dragged on the week grid) -> shortlist with explanations
-> accept. Meanwhile the peer's inbox is open: the notification appears
without a reload, and the session the scheduler booked by itself is on the
peer's calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from ..api import Api
from ..cohort import Cohort
from .conftest import Browse, OpenWindow


async def fill_intake(window: Browse, cohort: Cohort, ref: str) -> None:
    """The whole form, the way a person would: type, click, drag."""
    page = window.page
    await page.locator("#field-participant_ref").fill(ref)
    await page.locator("#age_band-ADULT").check()
    await page.locator("#field-time_zone").fill(cohort.zone)
    await drag_day(window, datetime.now(ZoneInfo(cohort.zone)).isoweekday())
    await page.locator("#peer_types-RECOVERY_COACH").check()
    await page.locator("#field-pref_certifications").fill(cohort.cert)
    await page.locator("#pref_certifications-required").check()


async def drag_day(window: Browse, day: int) -> None:
    """Press on the day's first hour and drag down to its last: all 24 ticked."""
    page = window.page
    first, last = page.locator(f"#slot-{day}-0"), page.locator(f"#slot-{day}-23")
    # The whole grid on screen first: a scroll in the middle of a drag would move it under the pointer.
    await last.scroll_into_view_if_needed()
    await first.scroll_into_view_if_needed()
    box = await first.bounding_box()
    end = await last.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    assert end is not None
    await page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=30)
    await page.mouse.up()
    for hour in (0, 11, 23):
        await expect(page.locator(f"#slot-{day}-{hour}")).to_be_checked()


async def test_intake_to_accept_then_the_peer_sees_it_live(
    api: Api, open_window: OpenWindow, planted: set[str]
) -> None:
    cohort = Cohort()
    planted.add(f"ref-{cohort.tag}-a")
    peer = cohort.peer(1)
    await api.enrol(cohort, peer)

    # The peer's inbox is open before anything happens.
    peer_window: Browse = await open_window()
    await peer_window.sign_in("peer", peer.peer_id)
    await peer_window.visit("/inbox")
    await expect(peer_window.page.locator("#inbox li")).to_have_count(0)
    await peer_window.page.evaluate("window.notReloaded = true")

    staff: Browse = await open_window()
    await staff.sign_in("intake", f"staff-{cohort.tag}")
    await expect(staff.page).to_have_url(staff.base + "/intake/new")
    await staff.settled()
    page = staff.page

    # Validation as you type, in the API's words, inline and in the summary.
    await page.locator("#field-participant_ref").fill("not a ref!")
    error = page.locator("#error-participant_ref")
    await expect(error).to_contain_text(
        "must be an id of 1-64 letters, digits or . _ : - starting with a letter or digit"
    )
    await expect(page.locator(".error-summary a[href='#field-participant_ref']")).to_be_visible()
    await expect(page.locator("#field-participant_ref")).to_have_attribute("aria-invalid", "true")
    await staff.shot("intake-form-errors", full_page=False)
    await fill_intake(staff, cohort, f"ref-{cohort.tag}-a")
    await page.locator("#field-consent_scope").fill("peer-support")
    await page.locator("#consent_recipients-assigned-peer").check()
    await expect(error).to_be_empty()
    await expect(page.locator(".error-summary")).to_have_count(0)
    assert await page.locator("#field-participant_ref").get_attribute("aria-invalid") is None
    # The grid by keyboard: arrow keys move, Space ticks.
    other_day = datetime.now(ZoneInfo(cohort.zone)).isoweekday() % 7 + 1
    await page.locator(f"#slot-{other_day}-8").focus()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Space")
    await expect(page.locator(f"#slot-{other_day}-9")).to_be_focused()
    await expect(page.locator(f"#slot-{other_day}-9")).to_be_checked()
    await staff.shot("intake-form")

    await page.get_by_role("button", name="Find peers").click()
    await expect(page.get_by_role("heading", name="Shortlist")).to_be_visible()
    await staff.settled()
    candidate = page.locator(f"#candidate-{peer.peer_id}")
    await expect(candidate).to_contain_text(peer.display_name)
    await expect(candidate.locator(".contrib-bar rect.seg")).not_to_have_count(0)
    await expect(candidate.locator(".contributions li")).not_to_have_count(0)
    await staff.shot("shortlist")

    await candidate.get_by_role("button", name=f"Accept {peer.display_name}").click()
    await expect(page.get_by_role("heading", name="Match accepted")).to_be_visible()
    await staff.settled()

    # The peer: told without a reload, then the session on the calendar.
    inbox = peer_window.page.locator("#inbox li")
    await expect(inbox.filter(has_text="new assignment")).to_have_count(1, timeout=20_000)
    assert await peer_window.page.evaluate("window.notReloaded") is True
    await expect(inbox.filter(has_text="session")).not_to_have_count(0, timeout=20_000)
    await peer_window.settled()
    await peer_window.shot("inbox")
    unread = inbox.locator("button", has_text="Mark as read")
    before = await unread.count()
    await unread.first.click()
    await expect(unread).to_have_count(before - 1)

    # The assignment, from the inbox: the participant's details under consent, with the Part 2 notice.
    await inbox.get_by_role("link", name="Open the assignment").first.click()
    await expect(peer_window.page.get_by_role("heading", name="Confidential: 42 CFR Part 2")).to_be_visible()
    await expect(peer_window.page.locator(".facts")).to_contain_text(f"ref-{cohort.tag}-a")
    await peer_window.settled()
    await peer_window.shot("assignment")

    await peer_window.visit("/calendar")
    sessions = peer_window.page.locator(".agenda .session")
    await expect(sessions).to_have_count(1)
    await expect(sessions.first).to_contain_text(f"ref-{cohort.tag}-a")
    await expect(sessions.first).to_contain_text("Booked")
    await expect(peer_window.page.get_by_role("link", name="Download the calendar feed (ICS)")).to_be_visible()
    await peer_window.shot("calendar")
    await peer_window.page.get_by_role("link", name="Week", exact=True).click()
    await expect(peer_window.page.locator(".week-view .session")).to_have_count(1)
    await expect(peer_window.page.locator(".week-view .session")).to_contain_text(f"ref-{cohort.tag}-a")
    await peer_window.settled()
    await peer_window.shot("calendar-week")


async def test_declining_a_candidate_refreshes_the_shortlist_in_place(
    api: Api, open_window: OpenWindow, planted: set[str]
) -> None:
    cohort = Cohort()
    planted.add(f"ref-{cohort.tag}-d")
    await api.enrol(cohort, cohort.peer(1), cohort.peer(2), email=False)
    staff: Browse = await open_window()
    await staff.sign_in("intake", f"staff-{cohort.tag}")
    page = staff.page
    await fill_intake(staff, cohort, f"ref-{cohort.tag}-d")
    await page.get_by_role("button", name="Find peers").click()
    candidates = page.locator(".candidate")
    await expect(candidates).to_have_count(2)
    first = await candidates.first.get_attribute("id")
    await page.evaluate("window.notReloaded = true")
    await candidates.first.get_by_role("button", name="Decline").click()
    await expect(candidates).to_have_count(1)
    assert await candidates.first.get_attribute("id") != first
    assert await page.evaluate("window.notReloaded") is True  # swapped by htmx, not a new page
    await staff.settled()
