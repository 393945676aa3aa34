"""A manager imports a roster CSV: the preview shows the bad row's error before
anything is saved, the manager fixes it in place, checks again and imports."""

from __future__ import annotations

import grpc
from grpc import aio
from playwright.async_api import expect

from alongside.api.matcher.v1 import matcher_pb2 as mpb

from ..api import Api
from ..cohort import Cohort
from .conftest import Browse, OpenWindow

HEADER = "peer_id,display_name,types,certifications,languages,time_zone,availability,capacity"


async def test_a_bad_row_is_shown_then_fixed_then_imported(api: Api, open_window: OpenWindow) -> None:
    cohort = Cohort()
    names = [cohort.display_name(n) for n in (1, 2)]
    api.canaries.update(names)
    rows = [
        HEADER,
        f"{cohort.peer_id(1)},{names[0]},recovery_coach,{cohort.cert},en;es,America/Chicago,mon 09:00-17:00,3",
        f"{cohort.peer_id(2)},{names[1]},peer_navigator,{cohort.cert},en,Mars/Olympus,tue 10:00-14:00,2",
    ]
    window: Browse = await open_window()
    await window.sign_in("manager", f"manager-{cohort.tag}")
    page = window.page
    await window.visit("/roster/import")
    await page.locator("#field-file").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}
    )
    await page.get_by_role("button", name="Check the file").click()
    await expect(page.get_by_role("heading", name="1 row has a problem")).to_be_visible()
    await window.settled()
    error = page.locator(".row-errors tbody tr")
    await expect(error).to_have_count(1)
    await expect(error.first).to_contain_text("3")
    await expect(error.first).to_contain_text("time_zone")
    await expect(error.first).to_contain_text("must be a known IANA time zone")
    await expect(page.get_by_role("button", name="Import")).to_have_count(0)
    await window.shot("roster-import-preview")
    # Nothing was saved.
    assert await peer_exists(api, cohort.peer_id(1)) is False

    box = page.locator("#field-csv")
    await box.fill((await box.input_value()).replace("Mars/Olympus", "America/Denver"))
    await page.get_by_role("button", name="Check again").click()
    await expect(page.get_by_text("2 peers are ready to import")).to_be_visible()
    await window.settled()
    await page.get_by_role("button", name="Import 2 peers").click()
    await expect(page.get_by_role("heading", name="2 peers imported")).to_be_visible()
    await window.settled()
    assert await peer_exists(api, cohort.peer_id(2)) is True


async def peer_exists(api: Api, peer_id: str) -> bool:
    try:
        await api.matcher("manager").GetPeer(mpb.GetPeerRequest(peer_id=peer_id))
    except aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return True
