"""What the console refuses, in a real browser: another peer's calendar (403,
no data), a form without its CSRF token, and a session left idle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import expect

from alongside.kit.testing.processes import Child

from ..api import Api
from ..cohort import Cohort
from ..conftest import Stack
from .conftest import Browse, Console, OpenWindow, console_env

IDLE_S = 3


async def test_a_peer_who_opens_another_peers_calendar_gets_403_and_no_data(api: Api, open_window: OpenWindow) -> None:
    cohort = Cohort()
    mine, theirs = cohort.peer(1), cohort.peer(2)
    await api.enrol(cohort, mine, theirs)
    request = await api.submit(cohort.intake("theirs"))
    match = await api.accept(request.request_id, request.candidates[0].peer_id)
    other = match.peer_id
    me = mine.peer_id if other != mine.peer_id else theirs.peer_id
    await api.first_session(other, match.match_id)

    window: Browse = await open_window()
    await window.sign_in("peer", me)
    response = await window.visit(f"/calendar/{other}")
    assert response.status == 403
    page = window.page
    await expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
    text = await page.content()
    assert f"ref-{cohort.tag}-theirs" not in text and "sessions.ics" not in text
    await window.shot("forbidden")
    feed = await page.request.get(f"{window.base}/calendar/{other}/sessions.ics")
    assert feed.status == 403 and "BEGIN:VCALENDAR" not in await feed.text()
    # Their own calendar opens.
    assert (await window.visit(f"/calendar/{me}")).status == 200


async def test_a_form_posted_without_its_csrf_token_is_refused(api: Api, open_window: OpenWindow) -> None:
    cohort = Cohort()
    window: Browse = await open_window()
    await window.sign_in("intake", f"staff-{cohort.tag}")
    await window.visit("/intake/new")
    page = window.page
    await page.locator("#field-participant_ref").fill(f"ref-{cohort.tag}-csrf")
    await page.evaluate("document.querySelector('#intake-form input[name=csrf_token]').remove()")
    async with page.expect_response(lambda r: r.url.endswith("/intake") and r.request.method == "POST") as posted:
        await page.get_by_role("button", name="Find peers").click()
    assert (await posted.value).status == 403
    await expect(page.locator("body")).to_contain_text("Refused")
    # Nothing was submitted: the waiting list and the shortlist never saw it.
    assert f"ref-{cohort.tag}-csrf" not in await page.content()


@pytest.fixture(scope="module")
def impatient_console(stack: Stack) -> Iterator[Console]:
    """A console that signs people out after a few idle seconds."""
    child = Child("alongside.console", console_env(stack, IDLE_TIMEOUT_SECONDS=str(IDLE_S)))
    try:
        yield Console(child)
    finally:
        child.close()


async def test_the_session_expires_when_idle(open_window: OpenWindow, impatient_console: Console) -> None:
    window: Browse = await open_window(impatient_console.url)
    await window.sign_in("intake", "staff-idle")
    page = window.page
    await expect(page.get_by_role("heading", name="New intake")).to_be_visible()
    # Nobody touches anything: the page goes to the sign-in page by itself.
    await expect(page.get_by_text("You were signed out because you did nothing for a while")).to_be_visible(
        timeout=(IDLE_S + 5) * 1000
    )
    await window.settled()
    await window.shot("signed-out-idle")
    # And the server agrees: the old session opens nothing.
    response = await window.visit("/intake/new")
    assert response.url.endswith("/sign-in")
    await expect(page.get_by_role("heading", name="Sign in to Alongside")).to_be_visible()


async def test_without_consent_the_peer_sees_no_participant_details(api: Api, open_window: OpenWindow) -> None:
    cohort = Cohort()
    peer = cohort.peer(1)
    await api.enrol(cohort, peer, email=False)
    request = await api.submit(cohort.intake("noconsent"))  # no consent recorded
    match = await api.accept(request.request_id, peer.peer_id)

    window: Browse = await open_window()
    await window.sign_in("peer", peer.peer_id)
    await window.visit(f"/assignments/{match.match_id}")
    page = window.page
    await expect(page.get_by_role("heading", name="No participant details can be shown")).to_be_visible()
    await expect(page.get_by_text("Consent not given.")).to_be_visible()
    assert f"ref-{cohort.tag}-noconsent" not in await page.content()
    await window.shot("assignment-no-consent")
