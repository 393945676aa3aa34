"""The community-group directory pages, in-process against a fake matcher that
keeps groups with the matcher's real bounds, validation, filter and CSV reader:
staff read the directory (filters, paging, meetings in the group's zone and the
viewer's), managers add, edit, retire and import with a dry run first, and the
matcher's refusal is shown at the field it names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from typing import Any

import grpc
import pytest
from grpc import aio
from starlette.testclient import TestClient

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console.app import create_app
from alongside.console.group_form import elsewhere, parse_meetings
from alongside.console.rpc import Backends
from alongside.console.settings import ConsoleSettings
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.groups import validate_group
from alongside.matcher.entrypoints.bounds import BOUNDS
from alongside.matcher.group_mappers import group_in, group_out
from alongside.matcher.service.group_csv import parse_groups
from alongside.matcher.service.groups import _matches

SECRET = "s" * 40
TUE_19 = types_pb2.WeeklyWindow(day=types_pb2.DAY_OF_WEEK_TUESDAY, start_minute=19 * 60, end_minute=20 * 60 + 30)
HEADER = "group_id,name,pathway,languages,modalities,area,time_zone,meetings,accessibility,audiences\n"


def refusal(code: grpc.StatusCode, details: str) -> aio.AioRpcError:
    return aio.AioRpcError(code, aio.Metadata(), aio.Metadata(), details)


class Calls:
    def __init__(self, backends: Fake) -> None:
        self.b = backends

    async def community_groups(self, req: mpb.ListGroupsRequest) -> mpb.ListGroupsResponse:
        self.b.lists.append(req)
        found = [g for _, g in sorted(self.b.groups.items()) if _matches(g, req)]
        start = int(req.page_token or 0)
        size = req.page_size or 50
        token = str(start + size) if start + size < len(found) else ""
        return mpb.ListGroupsResponse(groups=found[start : start + size], next_page_token=token)

    async def community_group(self, group_id: str) -> mpb.CommunityGroup:
        if group_id not in self.b.groups:
            raise refusal(grpc.StatusCode.NOT_FOUND, "group not found")
        found = mpb.CommunityGroup()
        found.CopyFrom(self.b.groups[group_id])
        return found

    async def upsert_community_group(self, group: mpb.CommunityGroup, idempotency_key: str) -> mpb.CommunityGroup:
        """What the matcher does: its bounds, its validation, then it stores the normalised group."""
        request = mpb.UpsertGroupRequest(idempotency_key=idempotency_key, group=group)
        self.b.upserts.append(request)
        try:
            BOUNDS.check(request)
            checked = validate_group(group_in(request.group), prefix="group.")
        except InvalidArgument as exc:
            raise refusal(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        previous = self.b.groups.get(checked.group_id)
        self.b.groups[checked.group_id] = group_out(checked, version=(previous.version if previous else 0) + 1)
        return self.b.groups[checked.group_id]

    async def import_community_groups(self, data: bytes, dry_run: bool, idempotency_key: str) -> Any:
        self.b.imports.append(dry_run)
        groups, errors = parse_groups(data)
        if not dry_run:
            for g in groups:
                self.b.groups[g.group_id] = group_out(g, version=1)
        return mpb.ImportGroupsResponse(imported=len(groups), errors=errors)


class Fake(Backends):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings)
        self.groups: dict[str, mpb.CommunityGroup] = {}
        self.lists: list[mpb.ListGroupsRequest] = []
        self.upserts: list[mpb.UpsertGroupRequest] = []
        self.imports: list[bool] = []
        self.put(
            mpb.CommunityGroup(
                group_id="g-hall", name="Tuesday Hall Fellowship", pathway=mpb.GROUP_PATHWAY_TWELVE_STEP,
                languages=["en", "es"], modalities=[mpb.MODALITY_IN_PERSON, mpb.MODALITY_VIDEO], area="kent",
                time_zone="America/New_York", meetings=[TUE_19], accessibility="Step-free access, hearing loop",
                audiences=[mpb.GROUP_AUDIENCE_WOMEN, mpb.GROUP_AUDIENCE_LGBTQ],
            ),
            mpb.CommunityGroup(
                group_id="g-smart", name="SMART Online", pathway=mpb.GROUP_PATHWAY_SMART_RECOVERY, languages=["en"],
                modalities=[mpb.MODALITY_VIDEO], time_zone="Europe/Madrid", meetings=[TUE_19],
            ),
            mpb.CommunityGroup(
                group_id="g-old", name="Old Dharma", pathway=mpb.GROUP_PATHWAY_RECOVERY_DHARMA, languages=["en"],
                modalities=[mpb.MODALITY_PHONE], time_zone="UTC", meetings=[TUE_19], retired=True,
            ),
        )  # fmt: skip

    def put(self, *groups: mpb.CommunityGroup) -> None:
        for g in groups:
            g.version = 1
            self.groups[g.group_id] = g

    def open(self) -> None:
        pass

    def as_person(self, token: str) -> Any:
        return Calls(self)


@pytest.fixture
def fake() -> Iterator[tuple[TestClient, Fake]]:
    settings = ConsoleSettings.from_env({}, dev_sign_in=True, auth_hs256_secret=SECRET)
    backends = Fake(settings)
    with TestClient(create_app(settings, backends), base_url="http://127.0.0.1:8080") as client:
        yield client, backends


def sign_in(client: TestClient, role: str, lang: str = "en") -> str:
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    client.post("/sign-in/dev", data={"role": role, "subject": f"{role}-1", "csrf_token": token},
                follow_redirects=False)  # fmt: skip
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    if lang != "en":
        client.post("/language", data={"lang": lang, "next": "/", "csrf_token": token}, follow_redirects=False)
    return token


class Fields(HTMLParser):
    """What a browser would post for the page's group form, unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.inside = False
        self.select = ""
        self.textarea = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = str(a.get("action", "")).endswith(("/edit", "/groups/new"))
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append((str(a["name"]), str(a.get("value") or "")))
        elif tag == "select":
            self.select = str(a["name"])
        elif tag == "option" and self.select and "selected" in a:
            self.pairs.append((self.select, str(a.get("value") or "")))
        elif tag == "textarea":
            self.textarea = str(a["name"])

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.pairs.append((self.textarea, data))
            self.textarea = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = ""
        elif tag == "textarea" and self.textarea:
            self.pairs.append((self.textarea, ""))
            self.textarea = ""


def form_of(html: str) -> dict[str, list[str]]:
    parser = Fields()
    parser.feed(html)
    form: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        form.setdefault(name, []).append(value)
    return form


def beside(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="error-{field}">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


# --- the pure pieces ---------------------------------------------------------------------------------------------


def test_a_meeting_is_placed_in_the_viewers_zone_with_this_weeks_clocks() -> None:
    # Tuesday 19:00-20:30 in New York is Wednesday 01:00-02:30 in Madrid in winter...
    winter = elsewhere(TUE_19, "America/New_York", "Europe/Madrid", date(2027, 1, 14))
    assert winter is not None and (winter.day, winter.start, winter.end) == (3, "01:00", "02:30")
    # ...and 00:00-01:30 in the weeks the United States has changed its clocks and Europe not yet.
    gap = elsewhere(TUE_19, "America/New_York", "Europe/Madrid", date(2027, 3, 17))
    assert gap is not None and (gap.day, gap.start, gap.end) == (3, "00:00", "01:30")
    assert elsewhere(TUE_19, "America/New_York", "America/New_York", date(2027, 1, 14)) is None
    assert elsewhere(TUE_19, "America/New_York", "Nowhere/Else", date(2027, 1, 14)) is None


def test_meetings_are_read_as_the_csv_writes_them() -> None:
    read = parse_meetings(" Tue 19:00-20:30 ;sat 10:00 - 11:00;")
    assert read is not None and [(w.day, w.start_minute, w.end_minute) for w in read] == [(2, 1140, 1230),
                                                                                          (6, 600, 660)]
    assert parse_meetings("tuesdays at seven") is None
    assert parse_meetings("xyz 10:00-11:00") is None


# --- the directory ----------------------------------------------------------------------------------------------


def test_intake_staff_read_the_directory_with_both_zones_and_nothing_to_change(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    sign_in(client, "intake")
    home = client.get("/intake/new")
    assert '<a href="/groups">Community groups</a>' in home.text, "in the navigation for staff"
    page = client.get("/groups?tz=Europe/Madrid")
    assert page.status_code == 200
    assert "Tuesday Hall Fellowship" in page.text and "SMART Online" in page.text and "Old Dharma" not in page.text
    assert "Twelve-step fellowship" in page.text and "Women, LGBTQ+ people" in page.text
    assert "Step-free access, hearing loop" in page.text and "In person, Video" in page.text and "kent" in page.text
    hall = page.text.split("Tuesday Hall Fellowship")[1].split("</tr>")[0]
    assert "Tuesday 19:00\N{EN DASH}20:30" in hall and "America/New_York" in hall
    assert "Your time: Wednesday" in hall, "New York's evening is the next day in Madrid"
    smart = page.text.split("SMART Online")[1].split("</tr>")[0]
    assert "Your time" not in smart, "the viewer's zone is the group's own"
    assert "Adults (18 and over)" in smart, "naming no audience means adults"
    assert 'href="/groups/g-hall?tz=Europe%2FMadrid"' in page.text
    assert "Add a group" not in page.text and "Import groups" not in page.text
    one = client.get("/groups/g-hall?tz=Europe/Madrid")
    assert one.status_code == 200 and "Your time: Wednesday" in one.text and "Step-free access" in one.text
    assert "Retire the group" not in one.text and "Edit the group" not in one.text
    assert client.get("/groups/new").status_code == 403
    assert client.get("/groups/import").status_code == 403
    assert client.get("/groups/g-hall/edit").status_code == 403
    token = re.findall(r'name="csrf_token" value="([^"]+)"', one.text)[0]
    assert client.post("/groups/g-hall/retired", data={"retired": "yes", "csrf_token": token}).status_code == 403
    assert backends.upserts == [] and not backends.groups["g-hall"].retired


def test_a_peer_may_not_open_the_directory(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    sign_in(client, "peer")
    page = client.get("/groups")
    assert page.status_code == 403 and backends.lists == []
    assert 'href="/group-sessions"' in page.text and 'href="/groups"' not in page.text, "not in a peer's navigation"


def test_the_filters_reach_the_matcher_and_htmx_gets_the_results_alone(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    sign_in(client, "manager")
    query = "pathway=TWELVE_STEP&language=ES&area=Kent&modality=IN_PERSON&audience=WOMEN&retired=yes&tz=UTC"
    page = client.get("/groups?" + query, headers={"HX-Request": "true"})
    assert page.status_code == 200 and page.text.lstrip().startswith('<div id="results">')
    assert "Tuesday Hall Fellowship" in page.text and "SMART Online" not in page.text
    req = backends.lists[-1]
    assert (req.pathway, req.language, req.area, req.modality, req.audience, req.include_retired) == (
        mpb.GROUP_PATHWAY_TWELVE_STEP, "ES", "Kent", mpb.MODALITY_IN_PERSON, mpb.GROUP_AUDIENCE_WOMEN, True)
    client.get("/groups?pathway=BOGUS&modality=TEXT&audience=x")
    req = backends.lists[-1]
    assert (req.pathway, req.modality, req.audience, req.include_retired) == (0, 0, 0, False)
    retired = client.get("/groups?retired=yes")
    assert "Old Dharma" in retired.text and "Retired" in retired.text
    bad = client.get("/groups?tz=Mars/Olympus")
    assert bad.status_code == 200 and "Your time zone must be a known IANA time zone" in bad.text
    assert "Your time" not in bad.text.split('id="results"')[1].replace("Your time zone", "")


def test_the_directory_comes_a_page_at_a_time(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    backends.put(*(mpb.CommunityGroup(group_id=f"g-p{i:02d}", name=f"Paged {i:02d}", pathway=mpb.GROUP_PATHWAY_OTHER,
                                      languages=["en"], modalities=[mpb.MODALITY_PHONE], time_zone="UTC",
                                      meetings=[TUE_19]) for i in range(30)))  # fmt: skip
    sign_in(client, "intake")
    first = client.get("/groups")
    after = re.findall(r'name="after" value="([^"]+)"', first.text)
    assert first.text.count("<tr>") == 1 + 25 and after == ["25"]
    second = client.get(f"/groups?after={after[0]}")
    assert "Paged 29" in second.text and "Paged 00" not in second.text and 'name="after"' not in second.text


# --- managers keep it ---------------------------------------------------------------------------------------------


def test_a_manager_adds_a_group_and_the_matchers_refusal_is_shown_at_the_field(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    sign_in(client, "manager")
    assert "Add a group" in client.get("/groups").text
    form = form_of(client.get("/groups/new").text)
    form |= {"group_id": ["g-new"], "name": ["Canary Circle"], "pathway": ["PEER_LED"], "languages": ["en, so"],
             "modalities": ["IN_PERSON"], "area": [""], "time_zone": ["America/Chicago"],
             "meetings": ["thu 18:00-19:00"], "accessibility": ["ASL"], "audiences": ["YOUNG_PEOPLE"]}
    refused = client.post("/groups/new", data=form)
    assert refused.status_code == 400 and "g-new" not in backends.groups
    assert "County or area is needed for a group that meets in person" in beside(refused.text, "area")
    assert '<a href="#field-area">County or area is needed for a group that meets in person</a>' in refused.text
    assert 'aria-invalid="true"' in refused.text.split('id="field-area"')[1].split(">")[0]
    assert 'value="Canary Circle"' in refused.text and 'value="thu 18:00-19:00"' in refused.text, "what was typed kept"
    assert 'value="YOUNG_PEOPLE" id="audiences-YOUNG_PEOPLE" checked' in refused.text

    shape = client.post("/groups/new", data={**form, "area": ["north"], "meetings": ["thursdays"]})
    assert shape.status_code == 400 and "Weekly meetings must look like" in beside(shape.text, "meetings")
    backwards = client.post("/groups/new", data={**form, "area": ["north"], "meetings": ["thu 19:00-18:00"]})
    assert backwards.status_code == 400 and "must end after it starts" in beside(backwards.text, "meetings")
    none = client.post("/groups/new", data={**form, "area": ["north"], "pathway": [""]})
    assert none.status_code == 400 and "Pathway or approach must be chosen" in beside(none.text, "pathway")

    done = client.post("/groups/new", data={**form, "area": ["North"]}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/groups/g-new?saved=group"
    stored = backends.groups["g-new"]
    assert stored.area == "north" and list(stored.languages) == ["en", "so"]
    assert list(stored.audiences) == [mpb.GROUP_AUDIENCE_YOUNG_PEOPLE] and stored.accessibility == "ASL"
    shown = client.get("/groups/g-new?saved=group")
    assert "The group is saved." in shown.text and "Peer-led" in shown.text and "Young people (12-25)" in shown.text

    taken = client.post("/groups/new", data={**form, "area": ["north"], "group_id": ["g-hall"]})
    assert taken.status_code == 400 and "Group id is taken by another group already" in beside(taken.text, "group_id")
    assert backends.groups["g-hall"].name == "Tuesday Hall Fellowship"


def test_the_edit_page_posts_back_the_group_it_showed_and_keeps_it_offered(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    sign_in(client, "manager")
    before = mpb.CommunityGroup()
    before.CopyFrom(backends.groups["g-hall"])
    form = form_of(client.get("/groups/g-hall/edit").text)
    done = client.post("/groups/g-hall/edit", data=form, follow_redirects=False)
    assert done.status_code == 303
    sent = backends.upserts[-1].group
    before.ClearField("version")
    assert sent == before, "every field round-trips through the form"
    form |= {"name": ["Tuesday Hall Fellowship (new hall)"], "modalities": ["VIDEO"], "audiences": []}
    client.post("/groups/g-hall/edit", data=form)
    stored = backends.groups["g-hall"]
    assert stored.name == "Tuesday Hall Fellowship (new hall)" and list(stored.modalities) == [mpb.MODALITY_VIDEO]
    assert list(stored.audiences) == [] and stored.version == 3


def test_a_manager_retires_a_group_and_offers_it_again(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    token = sign_in(client, "manager")
    page = client.get("/groups/g-smart")
    assert "Retire the group" in page.text
    done = client.post("/groups/g-smart/retired", data={"retired": "yes", "csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert done.headers["location"] == "/groups/g-smart?saved=retired" and backends.groups["g-smart"].retired
    shown = client.get("/groups/g-smart?saved=retired").text
    assert "it stays in the directory but is no longer offered" in shown and "Offer it again" in shown
    assert "SMART Online" not in client.get("/groups").text
    client.post("/groups/g-smart/retired", data={"retired": "no", "csrf_token": token})
    assert not backends.groups["g-smart"].retired and backends.groups["g-smart"].name == "SMART Online"


def test_an_import_shows_each_bad_row_before_anything_is_saved(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    token = sign_in(client, "manager")
    csv = (HEADER + "g-c1,Canary One,smart_recovery,en,video,,UTC,tue 10:00-11:00,,\n"
           + "g-c2,Canary Two,twelve_step,en,in_person,,UTC,tue 10:00-11:00,,\n")  # fmt: skip
    assert "Groups file (CSV)" in client.get("/groups/import").text
    preview = client.post("/groups/import/preview", data={"csrf_token": token},
                          files={"file": ("groups.csv", csv.encode(), "text/csv")})  # fmt: skip
    assert preview.status_code == 200 and "1 row has a problem" in preview.text
    row = preview.text.split('class="table row-errors"')[1].split("</table>")[0]
    assert "<td>3</td><td>area</td><td>is needed for a group that meets in person</td>" in row
    assert "Import 2 groups" not in preview.text and backends.imports == [True] and "g-c1" not in backends.groups
    fixed = csv.replace("in_person,,", "in_person,kent,")
    again = client.post("/groups/import/preview", data={"csrf_token": token, "csv": fixed})
    assert "2 groups are ready to import. Nothing has been saved yet." in again.text and "Import 2 groups" in again.text
    assert 'formaction="/groups/import/run"' in again.text
    key = re.findall(r'name="idempotency_key" value="([^"]+)"', again.text)[0]
    done = client.post("/groups/import/run", data={"csrf_token": token, "csv": fixed, "idempotency_key": key})
    assert "2 groups imported" in done.text and backends.groups["g-c2"].area == "kent"
    assert backends.imports == [True, True, False]
    # The roster's import is the same pages with its own words.
    roster = client.get("/roster/import").text
    assert "Roster file (CSV)" in roster and 'action="/roster/import/preview"' in roster


def test_the_directory_in_spanish(fake: tuple[TestClient, Fake]) -> None:
    client, _ = fake
    sign_in(client, "intake", lang="es")
    page = client.get("/groups?tz=Europe/Madrid").text
    assert "Grupos comunitarios" in page and "Comunidad de doce pasos" in page and "Mujeres, Personas LGBTQ+" in page
    assert "Su hora: miércoles" in page.lower() or "Su hora: Miércoles" in page
