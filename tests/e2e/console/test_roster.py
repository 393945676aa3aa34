"""A manager finds peers on the roster by filter or id, opens one (availability as
a week grid) and sets their status; the roster's status filter then finds them."""

from __future__ import annotations

from playwright.async_api import expect

from alongside.api.common.v1 import types_pb2

from ..api import Api
from ..cohort import Cohort
from .conftest import Browse, OpenWindow
from .test_intake_journey import drag_day


async def test_a_manager_puts_a_peer_on_leave(api: Api, open_window: OpenWindow) -> None:
    cohort = Cohort()
    monday_morning = [types_pb2.WeeklyWindow(day=types_pb2.DAY_OF_WEEK_MONDAY, start_minute=540, end_minute=720)]
    peer = cohort.peer(1, languages=["en", "ti"], availability=monday_morning)
    await api.enrol(cohort, peer, email=False)

    window: Browse = await open_window()
    await window.sign_in("manager", f"manager-{cohort.tag}")
    page = window.page
    await expect(page.get_by_role("heading", name="Roster")).to_be_visible()
    await page.locator("#field-language").fill("ti")
    await expect(page.locator("#results")).to_contain_text(peer.peer_id)
    # Found by a part of the name (posted: a peer's name never goes in a URL).
    await page.locator("#field-language").fill("")
    await page.locator("#field-name").fill(peer.display_name.split()[1].upper())
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    await expect(page.locator("#results")).to_contain_text(peer.peer_id)
    assert peer.display_name not in page.url
    await window.settled()
    await window.shot("roster")

    await page.locator("#field-peer_id").fill(peer.peer_id)
    await page.get_by_role("button", name="Open", exact=True).click()
    await expect(page.get_by_role("heading", name=peer.display_name)).to_be_visible()
    await expect(page.locator(".facts")).to_contain_text("Monday 09:00\u201312:00")  # an en dash
    await expect(page.locator(".week-grid td.on")).to_have_count(3)
    await window.settled()
    await page.locator("#status-ON_LEAVE").check()
    await page.get_by_role("button", name="Save the status").click()
    await expect(page.get_by_text("Status saved.")).to_be_visible()
    await expect(page.locator(".facts")).to_contain_text("On leave")
    await window.settled()
    await window.shot("roster-peer")

    await window.visit("/roster?status=ON_LEAVE&language=ti")
    await expect(page.locator("#results")).to_contain_text(peer.peer_id)

    # Edit: the matcher's rule beside the field, then availability on the week grid.
    await window.visit(f"/roster/peers/{peer.peer_id}/edit")
    await page.locator("#field-capacity").fill("5000")
    await page.get_by_role("button", name="Save the peer").click()
    await expect(page.locator("#error-capacity")).to_contain_text("must be between 0 and 1000")
    await window.settled()
    await page.locator("#field-capacity").fill("4")
    await drag_day(window, 2)  # all of Tuesday
    await page.get_by_role("button", name="Save the peer").click()
    await expect(page.get_by_text("Peer saved.")).to_be_visible()
    await expect(page.locator(".facts")).to_contain_text("0 of 4 units")
    await expect(page.locator(".facts")).to_contain_text("Tuesday 00:00\u201324:00")
    await expect(page.locator(".facts")).to_contain_text("Monday 09:00\u201312:00")  # kept
    await window.settled()

    # A culture and an age group: typed and ticked with the keyboard, then on the peer's page.
    await page.get_by_role("link", name="Edit this peer").click()
    await expect(page.locator("#field-cultures")).to_have_value("")
    await page.locator("#field-cultures").fill("Somali Bantu, oromo")
    await page.locator("#age_groups-YOUTH").focus()
    await page.keyboard.press("Space")
    await expect(page.locator("#age_groups-YOUTH")).to_be_checked()
    await expect(page.locator("#age_groups-ADULT")).to_be_checked()  # the cohort's, kept
    await page.locator("#field-supervisor_id").fill("sup 03")
    await page.get_by_role("button", name="Save the peer").click()
    await expect(page.locator("#error-supervisor_id")).to_contain_text("must be an id of 1-64 letters")
    await expect(page.locator("#field-cultures")).to_have_value("Somali Bantu, oromo")  # what was typed, kept
    await window.settled()
    await window.shot("roster-edit")
    await page.locator("#field-supervisor_id").fill("sup-03")
    await page.get_by_role("button", name="Save the peer").click()
    await expect(page.get_by_text("Peer saved.")).to_be_visible()
    facts = page.locator(".facts")
    await expect(facts).to_contain_text("oromo, somali_bantu")  # the matcher's normal form
    await expect(facts).to_contain_text("Youth (12-17), Adult (26-64)")
    await expect(facts).to_contain_text("sup-03")
    await expect(facts).to_contain_text("On leave")  # status is not the form's: kept
    await expect(facts).to_contain_text("0 of 4 units")  # kept from the first edit
    assert "somali" not in page.url.lower() and peer.display_name not in page.url
    await window.settled()
