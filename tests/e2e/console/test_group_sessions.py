"""Group sessions in the browser: intake staff find a peer's group and enrol
two participants (the second waits), a repeated enrolment is refused at the
field; the host sees the group calendar and the roster, without an enrol form.
Every page passes axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.testing.wait import eventually

from ..api import Api
from ..cohort import Cohort, key, ts
from .conftest import Browse, OpenWindow


async def test_staff_enrol_and_the_host_sees_the_roster(api: Api, open_window: OpenWindow) -> None:
    cohort = Cohort()
    host = cohort.peer(1)
    await api.enrol(cohort, host, email=False)
    await eventually(lambda: api.knows_calendar(host.peer_id), timeout=20, what="the host's calendar")
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    create = spb.CreateGroupSessionRequest(
        idempotency_key=key(),
        host_peer_id=host.peer_id,
        capacity=1,
        modality=spb.GROUP_MODALITY_IN_PERSON,
        duration_minutes=60,
        start=ts(start),
        recurrence=spb.Recurrence(count=3),
    )
    group = (await api.scheduler("manager").CreateGroupSession(create)).group
    refs = [f"ref-{cohort.tag}-g1", f"ref-{cohort.tag}-g2"]

    staff: Browse = await open_window()
    await staff.sign_in("intake", "staff-groups")
    page = staff.page
    await page.get_by_role("link", name="Group sessions").click()
    await staff.settled()
    await page.get_by_label("Peer id").fill(host.peer_id)
    await page.get_by_role("button", name="Show").click()
    await staff.settled()
    await page.get_by_role("link", name="Weekly group: In person").click()
    await staff.settled()
    for ref in refs:
        await page.get_by_label("Pseudonymous reference").fill(ref)
        await page.get_by_role("button", name="Enrol").click()
        await staff.settled()
    rows = page.locator("table").first
    await expect(rows).to_contain_text(refs[0])
    await expect(rows.locator("tr", has_text=refs[1])).to_contain_text("Waiting")
    await page.get_by_label("Pseudonymous reference").fill(refs[1])
    await page.get_by_role("button", name="Enrol").click()
    await staff.settled()
    await expect(page.get_by_role("alert")).to_contain_text("This participant is already enrolled or waiting.")
    await expect(page.get_by_label("Pseudonymous reference")).to_have_value(refs[1])

    peer: Browse = await open_window()
    await peer.sign_in("peer", host.peer_id)
    await peer.page.get_by_role("link", name="My groups").click()
    await peer.settled()
    await expect(peer.page.get_by_role("heading", name="My groups")).to_be_visible()
    await expect(peer.page.locator(".card")).to_contain_text("1 of 1 seats taken, 1 waiting.")
    await peer.visit(f"/group-sessions/{group.group_id}")
    await expect(peer.page.locator("table").first).to_contain_text(refs[0])
    assert await peer.page.get_by_role("button", name="Enrol").count() == 0
