"""The peer pages and the failure pages, in-process against a fake of the
console's one gRPC client (the browser tests use the real services)."""

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


def refused(code: grpc.StatusCode, details: str = "no") -> aio.AioRpcError:
    return aio.AioRpcError(code, aio.Metadata(), aio.Metadata(), details)


def session(session_id: str, start: datetime, local: str, status: int = spb.SESSION_STATUS_BOOKED) -> spb.Session:
    s = spb.Session(session_id=session_id, peer_id="peer-1", participant_ref="ref-7", status=status,  # type: ignore[arg-type]
                    peer_local_start=local)
    s.start.FromDatetime(start)
    s.end.FromDatetime(start + timedelta(minutes=45))
    return s


class FakeCalls:
    def __init__(self, backends: FakeBackends, token: str) -> None:
        self.b, self.token = backends, token

    async def sessions(self, peer_id: str, start: datetime, end: datetime) -> list[spb.Session]:
        self.b.seen.append((self.token, "ListSessions", peer_id))
        if self.b.fail is not None:
            raise self.b.fail
        return list(self.b.sessions)

    async def contact_preferences(self, peer_id: str) -> Any:
        raise refused(grpc.StatusCode.NOT_FOUND)

    async def mark(self, session_id: str, attended: bool, idempotency_key: str) -> spb.Session:
        self.b.seen.append((self.token, "MarkAttended" if attended else "MarkNoShow", session_id))
        (found,) = [s for s in self.b.sessions if s.session_id == session_id]
        found.status = spb.SESSION_STATUS_ATTENDED if attended else spb.SESSION_STATUS_NO_SHOW
        return found


    async def confirm_batch(self, batch_id: str, request_ids: list[str], idempotency_key: str) -> Any:
        self.b.seen.append((self.token, "ConfirmBatch", ",".join(request_ids)))
        raise AssertionError("not expected in these tests")


class FakeBackends(Backends):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings)
        self.sessions: list[spb.Session] = []
        self.seen: list[tuple[str, str, str]] = []
        self.fail: aio.AioRpcError | None = None

    def open(self) -> None:
        pass

    def as_person(self, token: str) -> Any:
        return FakeCalls(self, token)


@pytest.fixture
def fake() -> Iterator[tuple[TestClient, FakeBackends]]:
    settings = ConsoleSettings.from_env({}, dev_sign_in=True, auth_hs256_secret=SECRET)
    backends = FakeBackends(settings)
    with TestClient(create_app(settings, backends), base_url="http://127.0.0.1:8080") as client:
        yield client, backends


def sign_in_as_peer(client: TestClient) -> str:
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    client.post("/sign-in/dev", data={"role": "peer", "subject": "peer-1", "csrf_token": token})
    return re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]


def test_the_agenda_groups_sessions_by_the_peers_local_day(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    now = datetime.now(UTC)
    backends.sessions = [
        session("s-later", now + timedelta(days=2), "2030-01-09T09:30:00+01:00"),
        session("s-past", now - timedelta(hours=1), "2030-01-07T23:15:00+01:00"),
    ]
    sign_in_as_peer(client)
    page = client.get("/calendar/peer-1")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert text.index("s-past") < text.index("s-later")
    assert "23:15" in text and "09:30" in text and "45 minutes" in text
    assert len(re.findall(r"<section class=\"day\"", text)) == 2
    # Attended / no-show only for a booked session that has begun.
    past = text[text.index('id="session-s-past"'):text.index('id="session-s-later"')]
    assert 'value="attended"' in past
    assert 'value="attended"' not in text[text.index('id="session-s-later"'):]
    assert backends.seen[0][1:] == ("ListSessions", "peer-1")
    assert backends.seen[0][0].count(".") == 2, "the call carries the signed-in peer's own token (a JWT)"


def test_marking_attended_swaps_in_the_updated_session(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    backends.sessions = [session("s-1", datetime.now(UTC) - timedelta(minutes=5), "2030-01-07T10:00:00+00:00")]
    csrf = sign_in_as_peer(client)
    reply = client.post("/sessions/mark", data={"session_id": "s-1", "outcome": "attended", "csrf_token": csrf},
                        headers={"hx-request": "true"})
    assert reply.status_code == 200
    assert reply.text.strip().startswith('<li class="session status-session_status_attended"')
    assert "Attended" in reply.text and "<html" not in reply.text
    assert backends.seen[-1][1:] == ("MarkAttended", "s-1")


def test_a_refusal_from_the_service_is_a_403_page_with_no_data(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    sign_in_as_peer(client)
    backends.fail = refused(grpc.StatusCode.PERMISSION_DENIED, "a peer sees only their own sessions")
    page = client.get("/calendar/peer-2")
    assert page.status_code == 403
    assert "You do not have access to this page" in page.text and "sessions.ics" not in page.text
    htmx = client.get("/calendar/peer-2", headers={"hx-request": "true"})
    assert htmx.headers["hx-retarget"] == "#main" and "<html" not in htmx.text
    assert "You do not have access to this page" in htmx.text


def test_a_service_that_cannot_be_reached_is_a_503_page(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    sign_in_as_peer(client)
    backends.fail = refused(grpc.StatusCode.UNAVAILABLE, "connection refused 127.0.0.1:50052")
    page = client.get("/calendar/peer-1")
    assert page.status_code == 503 and "the service is unavailable" in page.text
    assert "127.0.0.1" not in page.text


def test_an_expired_token_signs_the_person_out(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    sign_in_as_peer(client)
    backends.fail = refused(grpc.StatusCode.UNAUTHENTICATED, "the token has expired; get a new one")
    reply = client.get("/calendar/peer-1", follow_redirects=False)
    assert reply.headers["location"] == "/sign-in?reason=token"
    assert client.get("/calendar/peer-1", follow_redirects=False).headers["location"] == "/sign-in"


def test_the_week_view_puts_each_session_under_its_local_day(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    backends.sessions = [
        session("s-mon", datetime(2030, 1, 7, 8, tzinfo=UTC), "2030-01-07T09:00:00+01:00"),
        session("s-sun", datetime(2030, 1, 13, 22, 30, tzinfo=UTC), "2030-01-13T23:30:00+01:00"),
    ]
    sign_in_as_peer(client)
    page = client.get("/calendar/peer-1?view=week&week=2030-01-09").text
    cells = re.findall(r"<td>(.*?)</td>", page, flags=re.S)
    assert len(cells) == 7
    assert "09:00" in cells[0] and "23:30" in cells[6] and all("ref-7" not in c for c in cells[1:6])
    assert "week=2030-01-14" in page and "week=2029-12-31" in page  # next and previous Mondays


def test_confirming_a_batch_with_nothing_ticked_confirms_nothing(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    client.post("/sign-in/dev", data={"role": "manager", "subject": "m-1", "csrf_token": token},
                follow_redirects=False)
    csrf = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    reply = client.post("/batch/confirm", data={"batch_id": "b-1", "csrf_token": csrf})
    assert reply.status_code == 400 and "Nothing was confirmed" in reply.text
    assert [s for s in backends.seen if s[1] == "ConfirmBatch"] == []  # an empty list would confirm them all
