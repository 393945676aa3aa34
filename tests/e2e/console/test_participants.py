"""A peer's own participants ("My participants"): each shown only as far as
consent allows, under the 42 CFR Part 2 notice; another peer's list is 403
with none of its data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from alongside.api.matcher.v1 import matcher_pb2 as mpb

from ..api import Api
from ..cohort import Cohort, ts
from .conftest import Browse, OpenWindow


async def test_a_peer_sees_their_participants_as_consent_allows(
    api: Api, open_window: OpenWindow, planted: set[str]
) -> None:
    cohort = Cohort()
    peer, other = cohort.peer(1), cohort.peer(2)
    await api.enrol(cohort, peer, other, email=False)
    given = mpb.Consent(scope="peer-support", recipients=["assigned-peer"], form_ref="form-1",
                        expires_at=ts(datetime.now(UTC) + timedelta(days=30)))
    refs = {"with": f"ref-{cohort.tag}-yes", "without": f"ref-{cohort.tag}-no"}
    planted.update(refs.values())
    matches = {}
    for name, consent in (("with", given), ("without", None)):
        extra = {"consent": consent} if consent is not None else {}
        request = await api.submit(cohort.intake(refs[name].rsplit("-", 1)[1], excluded_peer_ids=[other.peer_id],
                                                 **extra))
        matches[name] = (await api.accept(request.request_id, peer.peer_id)).match_id

    window: Browse = await open_window()
    await window.sign_in("peer", peer.peer_id)
    page = window.page
    await page.get_by_role("link", name="My participants").click()
    await expect(page.get_by_role("heading", name="My participants")).to_be_visible()
    await window.settled()
    shown, withheld = page.locator(f"#assignment-{matches['with']}"), page.locator(f"#assignment-{matches['without']}")
    await expect(page.get_by_role("heading", name="Confidential: 42 CFR Part 2")).to_be_visible()
    await expect(shown.locator(".facts")).to_contain_text(refs["with"])
    await expect(withheld).to_contain_text("No participant details can be shown")
    assert refs["without"] not in await page.content()
    await window.shot("participants")
    await shown.get_by_role("link").first.click()
    await expect(page.locator(".facts")).to_contain_text(refs["with"])

    # Another peer's list: the matcher refuses, the page shows none of it.
    intruder: Browse = await open_window()
    await intruder.sign_in("peer", other.peer_id)
    response = await intruder.visit(f"/participants/{peer.peer_id}")
    assert response.status == 403
    assert refs["with"] not in await intruder.page.content()
