"""An intake nobody can take: the waiting-list reason as a funnel with the step
that emptied the list highlighted, then the request on the waiting list,
found by search and filter."""

from __future__ import annotations

from playwright.async_api import expect

from ..api import Api
from ..cohort import Cohort
from .conftest import Browse, OpenWindow
from .test_intake_journey import fill_intake


async def test_the_funnel_shows_the_step_that_emptied_the_list(
    api: Api, open_window: OpenWindow, planted: set[str]
) -> None:
    cohort = Cohort()
    planted.update({f"ref-{cohort.tag}-w"})
    await api.enrol(cohort, cohort.peer(1), cohort.peer(2), email=False)

    window: Browse = await open_window()
    await window.sign_in("intake", f"staff-{cohort.tag}")
    page = window.page
    await fill_intake(window, cohort, f"ref-{cohort.tag}-w")
    await page.locator("#field-pref_languages").fill("ti")
    await page.locator("#pref_languages-required").check()
    await page.locator("#urgency-URGENT").check()
    await page.get_by_role("button", name="Find peers").click()

    await expect(page.get_by_role("heading", name="On the waiting list")).to_be_visible()
    await window.settled()
    emptied = page.locator(".funnel .step.emptied")
    await expect(emptied).to_have_count(1)
    await expect(emptied).to_have_attribute("aria-current", "step")
    await expect(emptied).to_contain_text("This step emptied the list")
    await expect(emptied).to_contain_text("Speaks Tigrinya: 0 of")  # of every peer in the shared roster so far
    # The emptied step ends the funnel; the checks after it were not reached.
    await expect(page.locator(".funnel .step").last).to_have_class("step emptied")
    await window.shot("waiting-list-funnel")
    request_id = page.url.rsplit("/", 1)[1]
    # In Spanish, from the matcher's structured phrases: the language named in Spanish too.
    await page.get_by_role("button", name="Español").click()
    await expect(emptied).to_contain_text("Habla tigriña: 0 de")
    await expect(page.locator(".summary")).to_contain_text("Habla tigriña: 0 de los")
    await window.settled()
    await page.get_by_role("button", name="English").click()
    await expect(emptied).to_contain_text("Speaks Tigrinya: 0 of")

    # The open requests, searched by the participant's reference (posted, never in the URL) and filtered.
    await window.visit("/intake/requests")
    rows = page.locator("#rows tbody tr")
    await page.locator("#field-ref").fill(f"ref-{cohort.tag}-w")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(request_id)
    await expect(rows.first).to_contain_text("Waiting")
    await page.locator("#field-ref").fill(f"ref-{cohort.tag}-")
    await expect(page.get_by_text("No request matches.")).to_be_visible()  # exact, until "Starts with"
    await page.locator("#field-prefix").check()
    await expect(rows).to_have_count(1)
    await page.locator("#field-status").select_option("WAITLISTED")
    await page.locator("#field-urgency").select_option("URGENT")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Urgent")
    await window.settled()
    await window.shot("waiting-list")
    assert page.url == window.base + "/intake/requests"
    await page.locator("#field-urgency").select_option("ROUTINE")
    await expect(page.get_by_text("No request matches.")).to_be_visible()
    await page.locator("#field-urgency").select_option("URGENT")
    await page.locator("#field-status").select_option("SHORTLISTED")
    await expect(page.get_by_text("No request matches.")).to_be_visible()
