"""A manager opens the programme dashboard after a small journey (intakes that
required Spanish, matched, first sessions booked): every chart is drawn (a
canvas per chart), each has its summary and data table, the page passes
axe-core, and a peer or an intake worker gets 403."""

from __future__ import annotations

from playwright.async_api import expect

from alongside.api.matcher.v1 import matcher_pb2 as mpb

from ..api import Api
from ..cohort import Cohort
from .conftest import Browse, OpenWindow

INTAKES = 6


async def test_a_manager_sees_the_charts_and_others_get_403(
    api: Api, open_window: OpenWindow, planted: set[str]
) -> None:
    cohort = Cohort()
    spanish = mpb.Preference(values=["es"], strength=mpb.STRENGTH_REQUIRED)
    peers = [cohort.peer(1, languages=["en", "es"], capacity=4), cohort.peer(2, languages=["en", "es"], capacity=4)]
    await api.enrol(cohort, *peers, email=False)
    for n in range(INTAKES):
        ref = f"d{n}"
        planted.add(f"ref-{cohort.tag}-{ref}")
        request = await api.submit(cohort.intake(ref, preferences=cohort.preferences(languages=spanish)))
        if n < INTAKES - 1:
            peer_id = request.candidates[0].peer_id
            match = await api.accept(request.request_id, peer_id)
            await api.first_session(peer_id, match.match_id)

    window: Browse = await open_window()
    await window.sign_in("manager", f"manager-{cohort.tag}")
    page = window.page
    await expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    await page.get_by_role("link", name="Dashboard").click()
    await window.settled()
    await expect(page.get_by_role("heading", name="Programme dashboard", level=1)).to_be_visible()

    charts = page.locator("[data-chart]")
    await expect(page.locator("#chart-waiting-size canvas")).to_have_count(1)
    drawn = await charts.count()
    assert drawn >= 6, "waiting size and age, urgency, caseload, sessions and equity at least"
    await expect(page.locator("[data-chart] canvas")).to_have_count(drawn)
    await expect(page.locator("#chart-equity-met canvas")).to_have_count(1)
    await expect(page.locator("#chart-sessions canvas")).to_have_count(1)
    # Each chart is a keyboard stop with a name and a description (its summary), and has a data table.
    chart = page.locator("#chart-waiting-size")
    await chart.focus()
    await expect(chart).to_be_focused()
    await expect(chart).to_have_attribute("aria-label", "Waiting list size")
    assert await page.locator("section.chart-card details").count() == drawn
    summary = page.locator("section.chart-card").filter(has=page.locator("#chart-equity-met")).locator("summary")
    await summary.focus()
    await page.keyboard.press("Enter")
    equity = page.locator("section.chart-card").filter(has=page.locator("#chart-equity-met")).locator("details table")
    await expect(equity).to_be_visible()
    await expect(equity).to_contain_text("Language: es")
    await window.settled()
    await page.locator("#chart-waiting-size").scroll_into_view_if_needed()
    await window.shot("dashboard", full_page=False)

    # The range and bucket form (GET): 26 weeks by day.
    await page.locator("#field-weeks").select_option("26")
    await page.locator("#field-bucket").select_option("day")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Show").click()
    await window.settled()
    assert "weeks=26" in page.url and "bucket=day" in page.url
    await expect(page.locator("#chart-waiting-size canvas")).to_have_count(1)
    await expect(page.locator("#field-bucket")).to_have_value("day")

    # In Spanish: the same charts, the words and the gap label translated.
    async with page.expect_navigation():
        await page.get_by_role("button", name="Español").click()
    await window.settled()
    await expect(page.get_by_role("heading", name="Panel del programa", level=1)).to_be_visible()
    await expect(page.locator("[data-chart] canvas")).to_have_count(await charts.count())
    assert '"fewer": "menos de 5"' in (await page.locator("#dashboard-data").text_content() or "")

    for role in ("peer", "intake"):
        other: Browse = await open_window()
        await other.sign_in(role, f"{role}-{cohort.tag}")
        await expect(other.page.get_by_role("link", name="Dashboard")).to_have_count(0)
        response = await other.visit("/dashboard")
        assert response.status == 403
        await expect(other.page.locator("[data-chart]")).to_have_count(0)
