"""A peer sets contact preferences in the console: the notifier's own error
beside the field, then saved; messages then come in Spanish."""

from __future__ import annotations

from playwright.async_api import expect

from alongside.api.notifier.v1 import notifier_pb2 as npb

from ..api import Api
from ..cohort import Cohort
from .conftest import Browse, OpenWindow


async def test_a_peer_chooses_spanish_and_email_and_is_told_in_spanish(api: Api, open_window: OpenWindow) -> None:
    cohort = Cohort()
    peer = cohort.peer(1)
    await api.enrol(cohort, peer, email=False)
    window: Browse = await open_window()
    await window.sign_in("peer", peer.peer_id)
    await window.visit("/preferences")
    page = window.page
    await page.locator("#language-es").check()
    await page.locator("#field-time_zone").fill(cohort.zone)
    await page.locator("#field-email_on").check()
    await page.locator("#field-email").fill("not-an-address")
    await page.get_by_role("button", name="Save preferences").click()
    await expect(page.locator("#error-email")).to_contain_text("must be a bare address with exactly one @")
    await window.settled()
    address = cohort.email(1)
    api.canaries.add(address)
    await page.locator("#field-email").fill(address)
    await page.get_by_role("button", name="Save preferences").click()
    await expect(page.get_by_text("Saved. New messages follow these preferences.")).to_be_visible()
    await window.settled()
    await window.shot("preferences")
    saved = await api.notifier(peer.peer_id).GetContactPreferences(
        npb.GetContactPreferencesRequest(peer_id=peer.peer_id)
    )
    assert (saved.preferences.language, saved.preferences.email) == ("es", address)
    assert npb.CHANNEL_EMAIL in saved.preferences.channels

    await window.visit("/inbox")
    request = await api.submit(cohort.intake("es-told"))
    await api.accept(request.request_id, peer.peer_id)
    item = page.locator("#inbox li").first
    await expect(item).to_be_visible(timeout=20_000)
    assert "You have a new assignment" not in await item.inner_text()
