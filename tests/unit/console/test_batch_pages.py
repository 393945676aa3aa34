"""The batch pages' progress: the server-sent events and the page without JavaScript,
in-process against a fake of the console's gRPC client (the browser test uses the real matcher)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from grpc import aio
from starlette.testclient import TestClient

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console.app import create_app
from alongside.console.rpc import Backends
from alongside.console.settings import ConsoleSettings

SECRET = "s" * 40


def history() -> list[mpb.BatchProgress]:
    done = mpb.BatchProgress(batch_id="b-1", phase=mpb.BATCH_PHASE_DONE, elapsed_seconds=2.5, requests=1)
    proposal = done.run.proposals.add(request_id="req-1", peer_id="peer-1", score=1.5, acuity=2,
                                      peer_load_before=1, peer_load_after=3, peer_capacity=4)
    proposal.contributions.add(criterion="language", points=1.0, max_points=1.0, text="Speaks Somali")
    done.run.batch_id = "b-1"
    return [
        mpb.BatchProgress(batch_id="b-1", phase=mpb.BATCH_PHASE_QUEUED),
        mpb.BatchProgress(batch_id="b-1", phase=mpb.BATCH_PHASE_LOADING, elapsed_seconds=0.1, requests=1),
        mpb.BatchProgress(batch_id="b-1", phase=mpb.BATCH_PHASE_CP_SAT, elapsed_seconds=1.2, solutions=3,
                          objective=10.0, bound=12.0, gap=1 / 6),
        done,
    ]


class FakeWatch:
    def __init__(self, events: list[mpb.BatchProgress]) -> None:
        self.events = [mpb.WatchBatchMatchResponse(progress=e) for e in events]
        self.cancelled = False

    async def read(self) -> Any:
        return self.events.pop(0) if self.events else aio.EOF

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._each()

    async def _each(self) -> AsyncIterator[Any]:
        while self.events:
            yield self.events.pop(0)

    def cancel(self) -> None:
        self.cancelled = True


class FakeCalls:
    def __init__(self, backends: FakeBackends) -> None:
        self.b = backends

    def watch_batch(self, batch_id: str) -> FakeWatch:
        self.b.watched.append(batch_id)
        return FakeWatch(self.b.events)

    async def intake(self, request_id: str) -> Any:
        raise aio.AioRpcError(grpc.StatusCode.NOT_FOUND, aio.Metadata(), aio.Metadata(), "no")

    async def waitlist(self) -> mpb.ListWaitlistResponse:
        return mpb.ListWaitlistResponse()

    async def start_batch(self, ids: list[str], policy: mpb.BatchPolicy, limit: float, idem: str) -> str:
        self.b.started.append(ids)
        details = "request_ids[0]: must be an id of 1-64 letters, digits or . _ : - starting with a letter or digit"
        raise aio.AioRpcError(grpc.StatusCode.INVALID_ARGUMENT, aio.Metadata(), aio.Metadata(), details)

    async def peer(self, peer_id: str) -> mpb.Peer:
        return mpb.Peer(peer_id=peer_id, display_name="Ayan", capacity=4)


class FakeBackends(Backends):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings)
        self.events: list[mpb.BatchProgress] = history()
        self.watched: list[str] = []
        self.started: list[list[str]] = []

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


def sign_in(client: TestClient, role: str) -> None:
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    client.post("/sign-in/dev", data={"role": role, "subject": f"{role}-1", "csrf_token": token},
                follow_redirects=False)


def events(body: str) -> list[tuple[str, str, str]]:
    """(id, event, data) of each server-sent event."""
    out = []
    for block in body.split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields.setdefault(name, []).append(value)
        if "event" in fields:
            out.append(("".join(fields.get("id", [])), fields["event"][0], "\n".join(fields.get("data", []))))
    return out


def test_each_step_is_a_line_then_the_review_ends_the_stream(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    sign_in(client, "manager")
    reply = client.get("/batch/b-1/stream")
    assert reply.headers["content-type"].startswith("text/event-stream")
    got = events(reply.text)
    assert [(i, e) for i, e, _ in got] == [("1", "progress"), ("2", "progress"), ("3", "progress"),
                                          ("4", "progress"), ("", "done")]
    assert 'data-phase="queued"' in got[0][2] and 'data-phase="done"' in got[3][2]
    assert "3 solutions found" in got[2][2] and "gap 16.7%" in got[2][2]
    review = got[-1][2]
    assert "Review the proposals" in review and "Speaks Somali" in review
    assert "1 of 4 units" in review and "3 of 4 units" in review and "acuity 2 units" in review
    assert backends.watched == ["b-1"]


def test_a_reconnect_sends_only_the_lines_not_yet_shown(fake: tuple[TestClient, FakeBackends]) -> None:
    client, _ = fake
    sign_in(client, "manager")
    got = events(client.get("/batch/b-1/stream", headers={"Last-Event-ID": "2"}).text)
    assert [(i, e) for i, e, _ in got] == [("3", "progress"), ("4", "progress"), ("", "done")]


def test_a_failed_batch_says_why(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    backends.events = [
        mpb.BatchProgress(batch_id="b-1", phase=mpb.BATCH_PHASE_QUEUED),
        mpb.BatchProgress(batch_id="b-1", phase=mpb.BATCH_PHASE_FAILED, failure="request_ids[0]: not found"),
    ]
    sign_in(client, "manager")
    got = events(client.get("/batch/b-1/stream").text)
    assert got[-1][1] == "done" and "request_ids[0]: not found" in got[-1][2] and 'role="alert"' in got[-1][2]


def test_without_javascript_the_page_waits_for_the_review(fake: tuple[TestClient, FakeBackends]) -> None:
    client, _ = fake
    sign_in(client, "manager")
    page = client.get("/batch/b-1")
    assert page.status_code == 200 and "Review the proposals" in page.text and "Speaks Somali" in page.text


@pytest.mark.parametrize("role", ["intake", "peer"])
def test_only_managers_follow_a_batch(fake: tuple[TestClient, FakeBackends], role: str) -> None:
    client, backends = fake
    sign_in(client, role)
    assert client.get("/batch/b-1").status_code == 403
    assert client.get("/batch/b-1/stream").status_code in (204, 403)
    assert backends.watched == []


def test_signed_out_the_stream_tells_the_browser_to_stop(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    assert client.get("/batch/b-1/stream").status_code == 204
    assert backends.watched == []


def test_an_id_the_matcher_refuses_is_shown_beside_the_box(fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    sign_in(client, "manager")
    csrf = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/batch").text)[0]
    form = {"csrf_token": csrf, "scope": "chosen", "ids": ".hidden", "intake_cap": "0", "youth_cap": "0",
            "time_limit": "10"}
    page = client.post("/batch/run", data=form)
    assert backends.started == [[".hidden"]]
    assert page.status_code == 400
    assert re.search(r'id="error-ids">.*must be an id of 1-64 letters', page.text)
