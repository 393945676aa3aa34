"""The open-requests page in-process: what it asks the matcher (the
reference only from a POSTed form, the filters, the page token) and what it
shows; the browser test runs it against the real matcher."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console.app import create_app
from alongside.console.rpc import Backends
from alongside.console.settings import ConsoleSettings

SECRET = "s" * 40


class Calls:
    def __init__(self, asked: list[mpb.ListMatchRequestsRequest]) -> None:
        self.asked = asked

    async def match_requests(self, req: mpb.ListMatchRequestsRequest) -> mpb.ListMatchRequestsResponse:
        self.asked.append(req)
        row = mpb.MatchRequestSummary(request_id="req-1", status=mpb.REQUEST_STATUS_WAITLISTED,
                                      urgency=mpb.URGENCY_URGENT, peer_types=[mpb.PEER_TYPE_YOUTH_PEER],
                                      age_band=mpb.AGE_BAND_YOUTH)
        return mpb.ListMatchRequestsResponse(requests=[row], next_page_token="" if req.page_token else "tok-2")


class Fake(Backends):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings)
        self.asked: list[mpb.ListMatchRequestsRequest] = []

    def open(self) -> None:
        pass

    def as_person(self, token: str) -> Any:
        return Calls(self.asked)


@pytest.fixture
def fake() -> Iterator[tuple[TestClient, Fake]]:
    settings = ConsoleSettings.from_env({}, dev_sign_in=True, auth_hs256_secret=SECRET)
    backends = Fake(settings)
    with TestClient(create_app(settings, backends), base_url="http://127.0.0.1:8080") as client:
        yield client, backends


def csrf(client: TestClient, page: str = "/sign-in") -> str:
    return re.findall(r'name="csrf_token" value="([^"]+)"', client.get(page).text)[0]


def test_the_search_is_posted_and_filters_reach_the_matcher(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    client.post("/sign-in/dev", data={"role": "intake", "subject": "staff-1", "csrf_token": csrf(client)},
                follow_redirects=False)
    page = client.get("/intake/requests")
    assert page.status_code == 200 and "req-1" in page.text and "Youth (12-17)" in page.text
    assert list(backends.asked[-1].statuses) == [] and not backends.asked[-1].participant_ref  # the open ones
    # A reference in the URL is ignored: only the posted form carries it.
    client.get("/intake/requests?ref=ref-secret")
    assert backends.asked[-1].participant_ref == ""
    form = {"csrf_token": csrf(client, "/intake/requests"), "ref": "ref-ab", "prefix": "on", "status": "WAITLISTED",
            "urgency": "URGENT", "peer_type": "YOUTH_PEER", "age_band": "YOUTH", "days": "3"}
    rows = client.post("/intake/requests", data=form, headers={"hx-request": "true"})
    asked = backends.asked[-1]
    assert (asked.participant_ref, asked.ref_prefix, list(asked.statuses)) == ("ref-ab", True,
                                                                             [mpb.REQUEST_STATUS_WAITLISTED])
    assert (asked.urgency, asked.peer_type, asked.age_band, asked.min_days_waiting) == (
        mpb.URGENCY_URGENT, mpb.PEER_TYPE_YOUTH_PEER, mpb.AGE_BAND_YOUTH, 3)
    assert "<html" not in rows.text and 'name="page_token" value="tok-2"' in rows.text
    client.post("/intake/requests", data={**form, "page_token": "tok-2"})
    assert backends.asked[-1].page_token == "tok-2"
    # A malformed reference is not sent, and the page says so without echoing it.
    bad = client.post("/intake/requests", data={**form, "ref": "not a ref!"})
    assert backends.asked[-1].participant_ref == "" and "left out of the search" in bad.text
    assert "not a ref!" not in bad.text


def test_a_peer_may_not_open_the_requests(fake: tuple[TestClient, Fake]) -> None:
    client, backends = fake
    client.post("/sign-in/dev", data={"role": "peer", "subject": "peer-1", "csrf_token": csrf(client)},
                follow_redirects=False)
    assert client.get("/intake/requests").status_code == 403 and backends.asked == []
