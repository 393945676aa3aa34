"""The community-group directory in the browser, against the real services: a
manager imports a small CSV whose bad row the dry run shows before anything is
saved, fixes it and imports, filters the directory, opens a group (its meetings
in its own zone and the viewer's) and retires it; an intake worker sees the
directory read-only. Every page passes axe-core."""

from __future__ import annotations

from playwright.async_api import expect

from alongside.api.matcher.v1 import matcher_pb2 as mpb

from ..api import Api
from ..cohort import Cohort
from .conftest import Browse, OpenWindow

HEADER = "group_id,name,pathway,languages,modalities,area,time_zone,meetings,accessibility,audiences"


async def test_a_manager_imports_filters_and_retires_and_intake_reads(api: Api, open_window: OpenWindow) -> None:
    tag = Cohort().tag
    area = f"area_{tag}"
    ids = [f"grp-{tag}-{n}" for n in (1, 2, 3)]
    rows = [
        HEADER,
        f"{ids[0]},Hall Fellowship {tag},twelve_step,en;es,in_person;video,{area},America/New_York,"
        "tue 19:00-20:30,Step-free access,women;lgbtq",
        f"{ids[1]},SMART Online {tag},smart_recovery,en,video,{area},America/New_York,thu 18:00-19:00,,",
        f"{ids[2]},Dharma Circle {tag},recovery_dharma,es,phone,{area},Mars/Olympus,sat 10:00-11:00,,",
    ]

    manager: Browse = await open_window()
    await manager.sign_in("manager", f"manager-{tag}")
    page = manager.page
    await page.get_by_role("link", name="Community groups").click()
    await manager.settled()
    await page.get_by_role("link", name="Import groups").click()
    await manager.settled()
    await page.locator("#field-file").set_input_files(
        {"name": "groups.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}
    )
    await page.get_by_role("button", name="Check the file").click()
    await expect(page.get_by_role("heading", name="1 row has a problem")).to_be_visible()
    await manager.settled()
    error = page.locator(".row-errors tbody tr")
    await expect(error).to_have_count(1)
    await expect(error.first).to_contain_text("4")
    await expect(error.first).to_contain_text("time_zone")
    await expect(error.first).to_contain_text("must be a known IANA time zone")
    await expect(page.get_by_role("button", name="Import")).to_have_count(0)
    await manager.shot("groups-import-preview")
    listed = await api.matcher("manager").ListGroups(mpb.ListGroupsRequest(area=area, include_retired=True))
    assert list(listed.groups) == [], "the dry run saved nothing"

    box = page.locator("#field-csv")
    await box.fill((await box.input_value()).replace("Mars/Olympus", "Europe/Madrid"))
    await page.get_by_role("button", name="Check again").click()
    await expect(page.get_by_text("3 groups are ready to import")).to_be_visible()
    await manager.settled()
    await page.get_by_role("button", name="Import 3 groups").click()
    await expect(page.get_by_role("heading", name="3 groups imported")).to_be_visible()
    await manager.settled()

    # The directory, filtered as you type; meetings in the viewer's zone as well.
    await page.get_by_role("link", name="Community groups").click()
    await manager.settled()
    results = page.locator("#results")
    await page.get_by_label("County or area").fill(area)
    await page.get_by_label("Your time zone").fill("Europe/Madrid")
    await expect(results.locator("tbody tr")).to_have_count(3)
    hall = results.locator("tr", has_text=f"Hall Fellowship {tag}")
    await expect(hall).to_contain_text("Tuesday 19:00\N{EN DASH}20:30")
    await expect(hall).to_contain_text("Your time: Wednesday 01:00\N{EN DASH}02:30")
    await expect(hall).to_contain_text("Women, LGBTQ+ people")
    await expect(hall).to_contain_text("Step-free access")
    await manager.settled()
    await manager.shot("groups")
    await page.get_by_label("Pathway or approach").select_option(label="SMART Recovery")
    await expect(results.locator("tbody tr")).to_have_count(1)
    await expect(results).to_contain_text(f"SMART Online {tag}")
    await page.get_by_label("Pathway or approach").select_option(label="Any")
    await page.get_by_label("Meets").select_option(label="Phone")
    await expect(results.locator("tbody tr")).to_have_count(1)
    await expect(results).to_contain_text(f"Dharma Circle {tag}")
    await page.get_by_label("Meets").select_option(label="Any way")
    await expect(results.locator("tbody tr")).to_have_count(3)
    await manager.settled()

    # Open a group and retire it.
    await results.get_by_role("link", name=f"Hall Fellowship {tag}").click()
    await manager.settled()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Hall Fellowship {tag}")
    await expect(page.locator(".facts")).to_contain_text("Your time: Wednesday 01:00")
    await page.get_by_role("button", name="Retire the group").click()
    await expect(page.get_by_role("status")).to_contain_text("The group is retired")
    await manager.settled()
    stored = (await api.matcher("manager").GetGroup(mpb.GetGroupRequest(group_id=ids[0]))).group
    assert stored.retired and stored.name == f"Hall Fellowship {tag}"
    await page.get_by_role("link", name="Back to the directory").click()
    await manager.settled()
    await page.get_by_label("County or area").fill(area)
    await expect(results.locator("tbody tr")).to_have_count(2)
    await page.get_by_label("Include retired groups").check()
    await expect(results.locator("tbody tr")).to_have_count(3)
    await expect(results.locator("tr", has_text=f"Hall Fellowship {tag}")).to_contain_text("Retired")
    await manager.settled()

    # An intake worker reads the directory, and may change nothing.
    intake: Browse = await open_window()
    await intake.sign_in("intake", f"intake-{tag}")
    ipage = intake.page
    await ipage.get_by_role("link", name="Community groups").click()
    await intake.settled()
    await ipage.get_by_label("County or area").fill(area)
    await expect(ipage.locator("#results tbody tr")).to_have_count(2)
    await expect(ipage.get_by_role("link", name="Import groups")).to_have_count(0)
    await expect(ipage.get_by_role("link", name="Add a group")).to_have_count(0)
    await ipage.locator("#results").get_by_role("link", name=f"SMART Online {tag}").click()
    await intake.settled()
    await expect(ipage.get_by_role("heading", level=1)).to_contain_text(f"SMART Online {tag}")
    await expect(ipage.get_by_role("button", name="Retire the group")).to_have_count(0)
    await expect(ipage.get_by_role("link", name="Edit the group")).to_have_count(0)
    assert (await intake.visit("/groups/import")).status == 403
