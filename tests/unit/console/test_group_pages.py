"""The group session pages against a fake of the console's gRPC client: a
peer's group calendar, a group's roster by reference, and enrolment by staff
(with the service's refusal shown at the field)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from grpc import aio
from starlette.testclient import TestClient

from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.console.app import create_app
from alongside.console.rpc import Backends
from alongside.console.settings import ConsoleSettings

SECRET = "s" * 40
GROUP = "peer-1~g1"


def meeting(index: int, start: datetime, local: str) -> spb.GroupOccurrence:
    o = spb.GroupOccurrence(index=index, peer_local_start=local)
    o.start.FromDatetime(start)
    o.end.FromDatetime(start + timedelta(minutes=90))
    return o


class Calls:
    def __init__(self, backends: Fake, token: str) -> None:
        self.b = backends

    async def group_sessions(self, peer_id: str) -> list[spb.GroupSession]:
        self.b.seen.append(("ListGroupSessions", peer_id))
        return [self.b.group]

    async def group_session(self, group_id: str) -> spb.GroupSession:
        self.b.seen.append(("GetGroupSession", group_id))
        return self.b.group

    async def group_enrolments(self, group_id: str) -> spb.ListGroupEnrolmentsResponse:
        return self.b.roster

    async def enrol(self, group_id: str, participant_ref: str, idempotency_key: str) -> spb.GroupEnrolment:
        self.b.seen.append(("EnrolParticipant", participant_ref))
        if self.b.refuse is not None:
            raise aio.AioRpcError(self.b.refuse, aio.Metadata(), aio.Metadata(), "refused")
        entry = spb.GroupEnrolment(participant_ref=participant_ref, status=spb.ENROLMENT_STATUS_WAITING, position=1)
        self.b.roster.enrolments.append(entry)
        return entry

    async def contact_preferences(self, peer_id: str) -> Any:
        raise aio.AioRpcError(grpc.StatusCode.NOT_FOUND, aio.Metadata(), aio.Metadata(), "none")


class Fake(Backends):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings)
        now = datetime.now(UTC)
        self.group = spb.GroupSession(
            group_id=GROUP, host_peer_id="peer-1", capacity=1, modality=spb.GROUP_MODALITY_VIDEO,
            duration_minutes=90, time_zone="Europe/Madrid", status=spb.GROUP_STATUS_ACTIVE, enrolled=1,
            occurrences=[meeting(0, now - timedelta(days=7), "2030-01-01T18:00:00+01:00"),
                         meeting(1, now + timedelta(days=1), "2030-01-08T18:00:00+01:00")],
        )  # fmt: skip
        self.roster = spb.ListGroupEnrolmentsResponse(
            enrolments=[spb.GroupEnrolment(participant_ref="ref-a", status=spb.ENROLMENT_STATUS_ENROLLED)],
            attendance=[spb.ParticipantAttendance(participant_ref="ref-a", occurrence_index=0,
                                                  attendance=spb.ATTENDANCE_ATTENDED)],
        )  # fmt: skip
        self.seen: list[tuple[str, str]] = []
        self.refuse: grpc.StatusCode | None = None

    def open(self) -> None:
        pass

    def as_person(self, token: str) -> Any:
        return Calls(self, token)


@pytest.fixture
def fake() -> Iterator[tuple[TestClient, Fake]]:
    settings = ConsoleSettings.from_env({}, dev_sign_in=True, auth_hs256_secret=SECRET)
    backends = Fake(settings)
    with TestClient(create_app(settings, backends), base_url="http://127.0.0.1:8080") as client:
        yield client, backends


def sign_in(client: TestClient, role: str, subject: str) -> str:
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    client.post("/sign-in/dev", data={"role": role, "subject": subject, "csrf_token": token}, follow_redirects=False)
    return re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]


def test_a_peers_group_calendar_shows_the_meetings_ahead(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    sign_in(client, "peer", "peer-1")
    page = client.get("/group-sessions", follow_redirects=True)
    assert page.status_code == 200 and "My groups" in page.text
    assert "Weekly group: Video" in page.text and "1 of 1 seats taken, 0 waiting." in page.text
    assert "18:00" in page.text and "2030-01-08" in page.text and "2030-01-01" not in page.text  # past meeting left out
    assert backends.seen == [("ListGroupSessions", "peer-1")]


def test_the_roster_shows_references_only_and_a_peer_gets_no_enrol_form(fake: tuple[TestClient, Fake]) -> None:
    client, _ = fake
    sign_in(client, "peer", "peer-1")
    page = client.get(f"/group-sessions/{GROUP}")
    assert page.status_code == 200 and "ref-a" in page.text and "Enrolled" in page.text and "Attended" in page.text
    assert "Enrol a participant" not in page.text


def test_intake_staff_enrol_and_a_refusal_is_shown_at_the_field(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    csrf = sign_in(client, "intake", "staff-1")
    page = client.get(f"/group-sessions/{GROUP}")
    assert "Enrol a participant" in page.text
    done = client.post(f"/group-sessions/{GROUP}/enrol", data={"participant_ref": "ref-b", "csrf_token": csrf},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == f"/group-sessions/{GROUP}"
    assert "Waiting" in client.get(f"/group-sessions/{GROUP}").text
    backends.refuse = grpc.StatusCode.ALREADY_EXISTS
    again = client.post(f"/group-sessions/{GROUP}/enrol", data={"participant_ref": "ref-b", "csrf_token": csrf})
    assert again.status_code == 400 and "This participant is already enrolled or waiting." in again.text
    assert 'aria-invalid="true"' in again.text and 'value="ref-b"' in again.text
    assert ("EnrolParticipant", "ref-b") in backends.seen


def test_staff_look_a_peer_up_and_peers_may_not_enrol(fake: tuple[TestClient, Fake]) -> None:
    client, _ = fake
    sign_in(client, "manager", "manager-1")
    assert 'name="peer"' in client.get("/group-sessions").text
    found = client.get("/group-sessions?peer=peer-1", follow_redirects=False)
    assert found.headers["location"] == "/group-sessions/of/peer-1"
    client.cookies.clear()
    csrf = sign_in(client, "peer", "peer-1")
    refused = client.post(f"/group-sessions/{GROUP}/enrol", data={"participant_ref": "ref-c", "csrf_token": csrf})
    assert refused.status_code == 403
