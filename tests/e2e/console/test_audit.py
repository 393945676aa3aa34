"""A manager reads the audit trail: what the console did on their behalf is
recorded under their own subject (the console calls as the person, never as itself)."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect

from ..cohort import Cohort
from .conftest import Browse, OpenWindow


async def test_the_audit_trail_shows_the_managers_own_calls(open_window: OpenWindow) -> None:
    cohort = Cohort()
    me = f"manager-{cohort.tag}"
    window: Browse = await open_window()
    await window.sign_in("manager", me)
    await window.visit("/intake/requests")  # ListMatchRequests: audited, as this manager

    page = window.page
    rows = page.locator("#results tbody tr")
    for _ in range(40):  # audit records are written in batches: wait for ours
        await window.page.goto(f"{window.base}/audit?actor={me}&action=ListMatchRequests")
        if await rows.count():
            break
        await asyncio.sleep(0.25)
    await expect(rows.first).to_contain_text(me)
    await expect(rows.first).to_contain_text("ListMatchRequests")
    await expect(rows.first).to_contain_text("OK")
    await window.settled()
    await window.shot("audit")
    # Filters narrow as you type: nobody else's records, and an action this manager never took.
    await page.locator("#field-action").fill("AcceptMatch")
    await expect(page.get_by_text("No record matches.")).to_be_visible()
