"""Editing a peer: the form is laid over the stored peer, every field it shows
round-trips, what it does not show is kept, and the matcher's own refusal is
shown beside the field. In-process against a fake matcher that checks an
upsert with the matcher's real bounds and validation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import grpc
import pytest
from grpc import aio
from starlette.datastructures import FormData
from starlette.testclient import TestClient

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console.app import create_app
from alongside.console.routes.roster_edit import _apply, _values
from alongside.console.rpc import Backends
from alongside.console.settings import ConsoleSettings
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.validation import validate_peer
from alongside.matcher.entrypoints.bounds import BOUNDS
from alongside.matcher.mappers import peer_in, peer_out

SECRET = "s" * 40
# Every field of Peer: the form shows all but these.
NOT_IN_THE_FORM = {"peer_id", "status", "load", "version"}


def full_peer() -> mpb.Peer:
    return mpb.Peer(
        peer_id="peer-7",
        display_name="Canaryname Zqedit",
        types=[mpb.PEER_TYPE_RECOVERY_COACH, mpb.PEER_TYPE_FAMILY_PEER],
        certifications=["CPRS", "CPSS"],
        languages=["en", "so"],
        cultures=["oromo", "somali"],
        gender="woman",
        lived_experience=["incarceration", "veteran"],
        pathways=["medication_assisted", "smart"],
        modalities=[mpb.MODALITY_PHONE, mpb.MODALITY_VIDEO],
        service_area="north",
        age_groups=[mpb.AGE_BAND_YOUNG_ADULT, mpb.AGE_BAND_ADULT],
        time_zone="America/Chicago",
        availability=[types_pb2.WeeklyWindow(day=types_pb2.DAY_OF_WEEK_MONDAY, start_minute=540, end_minute=720)],
        capacity=8,
        status=mpb.PEER_STATUS_ON_LEAVE,
        supervisor_id="sup-03",
        load=2,
        version=5,
    )


def test_the_form_covers_every_field_of_peer_but_the_id_status_and_outputs() -> None:
    shown = set(_values(full_peer())) - {"slot"} | {"availability"}
    assert shown == {f.name for f in mpb.Peer.DESCRIPTOR.fields} - NOT_IN_THE_FORM


def test_every_field_round_trips_through_the_forms_values() -> None:
    stored = full_peer()
    values = _values(stored)
    form = FormData([(k, v) for k, vs in values.items() for v in (vs if isinstance(vs, list) else [vs])]
                    + [("shown", name) for name in ("types", "age_groups", "modalities", "slot")])
    edited = mpb.Peer(peer_id="peer-7", status=mpb.PEER_STATUS_ON_LEAVE, load=2, version=5)
    _apply(edited, form)
    assert edited == stored


def test_each_shown_field_replaces_the_stored_one() -> None:
    peer = full_peer()
    form = FormData([
        ("display_name", " New Name "), ("languages", "es"), ("certifications", "CRS"), ("cultures", "arab, kurdish"),
        ("lived_experience", ""), ("pathways", "twelve step"), ("gender", "man"), ("service_area", "south"),
        ("time_zone", "Europe/Madrid"), ("capacity", "4"), ("supervisor_id", "sup-09"),
        ("shown", "types"), ("types", "PEER_NAVIGATOR"), ("shown", "age_groups"), ("age_groups", "OLDER_ADULT"),
        ("shown", "modalities"), ("shown", "slot"), ("slot", "2-10"), ("slot", "2-11"),
    ])
    _apply(peer, form)
    assert peer.display_name == "New Name" and list(peer.languages) == ["es"] and list(peer.certifications) == ["CRS"]
    assert list(peer.cultures) == ["arab", "kurdish"] and list(peer.lived_experience) == []
    assert list(peer.pathways) == ["twelve step"] and peer.gender == "man" and peer.service_area == "south"
    assert peer.time_zone == "Europe/Madrid" and peer.capacity == 4 and peer.supervisor_id == "sup-09"
    assert list(peer.types) == [mpb.PEER_TYPE_PEER_NAVIGATOR] and list(peer.age_groups) == [mpb.AGE_BAND_OLDER_ADULT]
    assert list(peer.modalities) == []  # shown, none ticked: none
    assert [(w.day, w.start_minute, w.end_minute) for w in peer.availability] == [(2, 600, 720)]


def test_fields_the_form_does_not_carry_are_kept() -> None:
    peer = full_peer()
    _apply(peer, FormData([("display_name", "Only The Name")]))  # no group named in "shown", no other text field
    expected = full_peer()
    expected.display_name = "Only The Name"
    assert peer == expected


def test_availability_is_kept_to_the_minute_when_the_grid_is_unchanged() -> None:
    peer = full_peer()
    del peer.availability[:]
    peer.availability.append(types_pb2.WeeklyWindow(day=types_pb2.DAY_OF_WEEK_FRIDAY, start_minute=570,
                                                     end_minute=615))  # 09:30-10:15: hours 9 and 10 on the grid
    _apply(peer, FormData([("shown", "slot"), ("slot", "5-9"), ("slot", "5-10")]))
    assert [(w.start_minute, w.end_minute) for w in peer.availability] == [(570, 615)]
    _apply(peer, FormData([("shown", "slot"), ("slot", "5-9")]))
    assert [(w.start_minute, w.end_minute) for w in peer.availability] == [(540, 600)]


# --- the pages, against a fake matcher that keeps one peer -------------------------------------------------------


class FakeCalls:
    def __init__(self, backends: FakeBackends) -> None:
        self.b = backends

    async def peer(self, peer_id: str) -> mpb.Peer:
        found = mpb.Peer()
        found.CopyFrom(self.b.stored)
        return found

    async def upsert_peer(self, peer: mpb.Peer, idempotency_key: str) -> mpb.Peer:
        """What the matcher does: its bounds, then its validation, then it stores the normalised peer."""
        request = mpb.UpsertPeerRequest(idempotency_key=idempotency_key, peer=peer)
        self.b.upserts.append(request)
        try:
            BOUNDS.check(request)
            checked = validate_peer(peer_in(request.peer), prefix="peer.")
        except InvalidArgument as exc:
            raise aio.AioRpcError(grpc.StatusCode.INVALID_ARGUMENT, aio.Metadata(), aio.Metadata(), str(exc)) from None
        self.b.stored = peer_out(checked, load=self.b.stored.load, version=self.b.stored.version + 1)
        return self.b.stored


class FakeBackends(Backends):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings)
        self.stored = full_peer()
        self.upserts: list[mpb.UpsertPeerRequest] = []

    def open(self) -> None:
        pass

    def as_person(self, token: str) -> Any:
        return FakeCalls(self)


@pytest.fixture
def fake() -> Iterator[tuple[TestClient, FakeBackends]]:
    settings = ConsoleSettings.from_env({}, dev_sign_in=True, auth_hs256_secret=SECRET)
    backends = FakeBackends(settings)
    with TestClient(create_app(settings, backends), base_url="http://127.0.0.1:8080") as client:
        yield client, backends


def sign_in_as_manager(client: TestClient, lang: str = "en") -> None:
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    client.post("/sign-in/dev", data={"role": "manager", "subject": "m-1", "csrf_token": token},
                follow_redirects=False)
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    client.post("/language", data={"lang": lang, "next": "/", "csrf_token": token}, follow_redirects=False)


class Fields(HTMLParser):
    """What a browser would post for the page's edit form, unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = str(a.get("action", "")).endswith("/edit")
        elif tag == "input" and self.inside and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append((str(a["name"]), str(a.get("value") or "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


Form = dict[str, list[str]]


def form_of(html: str) -> Form:
    parser = Fields()
    parser.feed(html)
    form: Form = {}
    for name, value in parser.pairs:
        form.setdefault(name, []).append(value)
    return form


def replaced(form: Form, name: str, *values: str) -> Form:
    return {**form, name: list(values)}


def test_the_page_posts_back_the_peer_it_showed(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    sign_in_as_manager(client)
    page = client.get("/roster/peers/peer-7/edit")
    assert page.status_code == 200
    reply = client.post("/roster/peers/peer-7/edit", data=form_of(page.text), follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/roster/peers/peer-7?saved=peer"
    sent = backends.upserts[-1].peer
    expected = full_peer()
    expected.ClearField("load")
    expected.ClearField("version")
    assert sent == expected


def test_a_changed_culture_and_age_group_reach_the_matcher_and_the_peers_page(
    fake: tuple[TestClient, FakeBackends],
) -> None:
    client, backends = fake
    sign_in_as_manager(client)
    pairs = form_of(client.get("/roster/peers/peer-7/edit").text)
    pairs = replaced(replaced(pairs, "cultures", "Somali Bantu, oromo"), "age_groups", "YOUTH")
    client.post("/roster/peers/peer-7/edit", data=pairs)
    assert list(backends.stored.cultures) == ["oromo", "somali_bantu"]  # the matcher's normal form
    assert list(backends.stored.age_groups) == [mpb.AGE_BAND_YOUTH]
    assert backends.stored.status == mpb.PEER_STATUS_ON_LEAVE and backends.stored.supervisor_id == "sup-03"
    shown = client.get("/roster/peers/peer-7").text
    assert "oromo, somali_bantu" in shown and "Youth (12-17)" in shown and "Adult (26-64)" not in shown


def test_a_refused_tag_shows_the_matchers_message_beside_it(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    sign_in_as_manager(client)
    pairs = form_of(client.get("/roster/peers/peer-7/edit").text)
    reply = client.post("/roster/peers/peer-7/edit", data=replaced(pairs, "cultures", "somali, " + "x" * 70))
    assert reply.status_code == 400
    assert backends.stored == full_peer(), "nothing stored"
    beside = re.search(r'<p class="field-error" id="error-cultures">(.*?)</p>', reply.text, re.S)
    assert beside is not None and "Cultures at most 64 characters" in beside.group(1)
    assert '<a href="#field-cultures">Cultures at most 64 characters</a>' in reply.text
    assert 'aria-invalid="true"' in reply.text.split('id="field-cultures"')[1].split(">")[0]
    assert "x" * 70 in reply.text, "the page is shown again with what was typed"
    assert 'value="somali, ' + "x" * 70 + '"' in reply.text

    reply = client.post("/roster/peers/peer-7/edit", data=replaced(pairs, "languages", "en, english!"))
    assert reply.status_code == 400
    beside = re.search(r'id="error-languages">(.*?)</p>', reply.text, re.S)
    assert beside is not None and "must hold language codes such as" in beside.group(1)


def test_a_refused_supervisor_id_is_named_beside_it(fake: tuple[TestClient, FakeBackends]) -> None:
    client, _ = fake
    sign_in_as_manager(client)
    pairs = form_of(client.get("/roster/peers/peer-7/edit").text)
    reply = client.post("/roster/peers/peer-7/edit", data=replaced(pairs, "supervisor_id", "sup 03!"))
    assert reply.status_code == 400
    beside = re.search(r'id="error-supervisor_id">(.*?)</p>', reply.text, re.S)
    assert beside is not None and "id must be an id of 1-64 letters" in beside.group(1)


def test_the_refusal_is_in_spanish_for_a_spanish_speaker(fake: tuple[TestClient, FakeBackends]) -> None:
    client, _ = fake
    sign_in_as_manager(client, lang="es")
    pairs = form_of(client.get("/roster/peers/peer-7/edit").text)
    reply = client.post("/roster/peers/peer-7/edit", data=replaced(pairs, "cultures", "x" * 70))
    beside = re.search(r'id="error-cultures">(.*?)</p>', reply.text, re.S)
    assert beside is not None and "Culturas como mucho 64 caracteres" in beside.group(1)
    assert "Edades con las que trabaja" in reply.text


def test_no_personal_data_in_the_urls(fake: tuple[TestClient, FakeBackends]) -> None:
    client, _ = fake
    sign_in_as_manager(client)
    page = client.get("/roster/peers/peer-7/edit").text
    assert re.search(r'<form method="post" action="/roster/peers/peer-7/edit"', page)
    reply = client.post("/roster/peers/peer-7/edit", data=form_of(page), follow_redirects=False)
    assert "Canaryname" not in reply.headers["location"] and "somali" not in reply.headers["location"]
