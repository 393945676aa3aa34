"""The programme dashboard page, in-process against a fake of the console's gRPC
client: suppressed cells are gaps labelled "fewer than k" (never 0), both RPCs
run at once with the manager's token, the range form, Spanish, and 403 for
everyone but managers and admins. The browser test draws it for real."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

import alongside.console
from alongside.api.common.v1 import stats_pb2 as st
from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.console import dashboard_view
from alongside.console.app import create_app
from alongside.console.rpc import Backends
from alongside.console.settings import ConsoleSettings

SECRET = "s" * 40
K = 5
WEEK0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


def count(value: int) -> st.StatsCount:
    """As the services send it: 1..k-1 suppressed."""
    return st.StatsCount(value=0, suppressed=True) if 0 < value < K else st.StatsCount(value=value)


def durations(n: int, p50_days: float, p90_days: float) -> st.DurationSummary:
    if n < K:
        return st.DurationSummary(count=count(n))
    return st.DurationSummary(count=count(n), p50_seconds=p50_days * 86400, p90_seconds=p90_days * 86400)


def programme() -> mpb.GetProgrammeStatsResponse:
    reply = mpb.GetProgrammeStatsResponse(min_cell_size=K, bucket=st.STATS_BUCKET_WEEK)
    for i, (waiting, age_n) in enumerate([(12, 12), (3, 3), (9, 9)]):
        point = reply.waiting.add(waiting=count(waiting), age=durations(age_n, 4 + i, 10 + i),
                                  submitted=count(7), matched=count(2))
        point.bucket_start.FromDatetime(WEEK0 + timedelta(weeks=i))
    reply.waitlisted_now.CopyFrom(durations(8, 6, 15))
    reply.time_to_match.add(urgency="ROUTINE", duration=durations(20, 9, 21))
    reply.time_to_match.add(urgency="URGENT", duration=durations(2, 0, 0))
    reply.caseload.active_peers, reply.caseload.capacity_units, reply.caseload.load_units = 30, 120, 90
    reply.caseload.bins.add(lower_percent=0, upper_percent=10, peers=count(3))
    reply.caseload.bins.add(lower_percent=90, upper_percent=100, peers=count(17))
    reply.caseload.bins.add(lower_percent=100, upper_percent=0, peers=count(10))
    reply.equity.add(dimension="language", value="so", requests=11, matched=count(8), preference_met=count(8),
                     required=count(10), required_met=count(8), wait=durations(11, 12, 30))
    reply.equity.add(dimension="culture", value="other", requests=6, matched=count(4), preference_met=count(4),
                     required=count(6), required_met=count(4), wait=durations(6, 20, 40))
    return reply


def session_stats() -> spb.GetSessionStatsResponse:
    reply = spb.GetSessionStatsResponse(min_cell_size=K, bucket=st.STATS_BUCKET_WEEK)
    for i, attended in enumerate([25, 0, 4]):
        b = reply.sessions.add(attended=count(attended), no_show=count(6), cancelled=count(1), booked=count(0))
        b.bucket_start.FromDatetime(WEEK0 + timedelta(weeks=i))
    reply.time_to_first_session.add(urgency="PRIORITY", duration=durations(15, 5, 11.5))
    return reply


class FakeCalls:
    def __init__(self, backends: FakeBackends, token: str) -> None:
        self.b, self.token = backends, token

    async def _both_running(self, name: str, *args: Any) -> None:
        self.b.seen.append((self.token, name, *args))
        self.b.started[name].set()
        # Each waits (with a deadline) until the other has started: only concurrent calls get past this.
        other = next(event for other, event in self.b.started.items() if other != name)
        async with asyncio.timeout(2):
            await other.wait()

    async def programme_stats(self, start: datetime, end: datetime, bucket: int) -> mpb.GetProgrammeStatsResponse:
        await self._both_running("GetProgrammeStats", start, end, bucket)
        return self.b.programme

    async def session_stats(self, start: datetime, end: datetime, bucket: int) -> spb.GetSessionStatsResponse:
        await self._both_running("GetSessionStats", start, end, bucket)
        return self.b.sessions


class FakeBackends(Backends):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings)
        self.programme, self.sessions = programme(), session_stats()
        self.seen: list[tuple[Any, ...]] = []
        self.started = {"GetProgrammeStats": asyncio.Event(), "GetSessionStats": asyncio.Event()}

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


def sign_in(client: TestClient, role: str, language: str = "en") -> None:
    token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
    client.post("/sign-in/dev", data={"role": role, "subject": f"{role}-1", "csrf_token": token},
                follow_redirects=False)
    if language != "en":
        token = re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[0]
        client.post("/language", data={"lang": language, "next": "/sign-in", "csrf_token": token},
                    follow_redirects=False)


def chart_json(page: str) -> dict[str, Any]:
    block = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page, re.S)
    assert block is not None
    return json.loads(block.group(1))  # type: ignore[no-any-return]


def table(page: str, key: str) -> str:
    start = page.index(f'id="title-{key}"')
    return page[start:page.index("</table>", start)]


def test_suppressed_cells_are_labelled_gaps_never_zero(fake: tuple[TestClient, FakeBackends]) -> None:
    client, _ = fake
    sign_in(client, "manager")
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = unescape(page.text)
    data = chart_json(page.text)
    assert data["fewer"] == "fewer than 5"
    size = data["charts"]["waiting-size"]["series"][0]
    assert size["values"] == [12, None, 9] and size["suppressed"] == [False, True, False]
    age = data["charts"]["waiting-age"]["series"]
    assert [s["values"] for s in age] == [[4, None, 6], [10, None, 12]]
    sessions = data["charts"]["sessions"]["series"]
    assert sessions[0]["values"] == [25, 0, None] and sessions[0]["suppressed"] == [False, False, True]
    assert sessions[2]["values"] == [None] * 3, "cancelled: every week 1 to 4, so every week a gap"
    caseload = data["charts"]["caseload"]
    assert caseload["labels"] == ["0 to 10 %", "90 to 100 %", "100 % and over"]
    assert caseload["series"][0]["values"] == [None, 17, 10]
    urgent = data["charts"]["time-to-match"]
    assert urgent["labels"] == ["Routine", "Urgent"] and urgent["series"][0]["values"] == [9, None]
    equity = data["charts"]["equity-met"]
    assert equity["labels"] == ["Language: so", "Culture: other"]
    assert equity["series"][0]["values"] == [80, None] and equity["series"][0]["suppressed"] == [False, True]
    # The tables and the summaries say "fewer than 5" where the chart has a gap; a real 0 stays 0.
    rows = table(text, "sessions")
    assert "<td>fewer than 5</td>" in rows
    assert re.search(r"9 Nov 2026</th><td>0</td>", rows)
    assert "Urgent</th><td>fewer than 5</td><td>fewer than 5</td><td>fewer than 5</td>" in table(text, "time-to-match")
    assert "Gaps mark cells of fewer than 5 people, which are not shown." in text
    assert "Waiting: latest 9, highest 12, lowest 9." in text
    assert "30 active peers carry 90 of 120 capacity units (75 %)." in text
    assert "On the waiting list now (no peer fits yet): 8; median wait 6 days, 90th percentile 15 days." in text
    # No figure is a suppressed count written as 0.
    assert all(v is None for s in data["charts"]["equity-met"]["series"] for v, h in zip(s["values"], s["suppressed"],
                                                                                         strict=True) if h)


def test_both_rpcs_run_at_once_with_the_managers_token_over_the_chosen_range(
        fake: tuple[TestClient, FakeBackends]) -> None:
    client, backends = fake
    sign_in(client, "manager")
    before = datetime.now(UTC)
    assert client.get("/dashboard?weeks=26&bucket=day").status_code == 200
    names = sorted(call[1] for call in backends.seen)
    assert names == ["GetProgrammeStats", "GetSessionStats"]
    for token, _, start, end, bucket in backends.seen:
        assert token.count(".") == 2, "the signed-in person's own token (a JWT)"
        assert bucket == st.STATS_BUCKET_DAY
        assert end - start == timedelta(weeks=26) and end >= before
    page = client.get("/dashboard?weeks=9999&bucket=hour").text
    assert '<option value="12" selected>' in page and '<option value="week" selected>' in page
    assert 'aria-current="page">Dashboard</a>' in page


@pytest.mark.parametrize("role", ["peer", "intake"])
def test_only_managers_and_admins_see_it(fake: tuple[TestClient, FakeBackends], role: str) -> None:
    client, backends = fake
    sign_in(client, role)
    page = client.get("/dashboard")
    assert page.status_code == 403 and "dashboard-data" not in page.text
    assert backends.seen == []
    assert 'href="/dashboard"' not in page.text, "no link to it in their navigation"


def test_the_dashboard_in_spanish(fake: tuple[TestClient, FakeBackends]) -> None:
    client, _ = fake
    sign_in(client, "manager", "es")
    text = unescape(client.get("/dashboard").text)
    data = chart_json(client.get("/dashboard").text)
    assert data["fewer"] == "menos de 5"
    assert "Panel del programa" in text and "<td>menos de 5</td>" in text
    assert data["charts"]["equity-met"]["labels"] == ["Idioma: so", "Cultura: otro"]
    assert data["charts"]["time-to-match"]["labels"] == ["Ordinaria", "Urgente"]
    assert "75 %" in text and "nov 2026" in text


def test_every_dashboard_message_has_a_spanish_translation() -> None:
    po = Path(alongside.console.__file__).parent / "locale" / "es" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalogue = read_po(f, locale="es")
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    assert sorted(set(dashboard_view.WORDS.values()) - translated) == []


def test_the_page_loads_only_vendored_and_own_files() -> None:
    page = (Path(alongside.console.__file__).parent / "templates" / "dashboard.html").read_text()
    assert "http://" not in page and "https://" not in page, "no CDN"
    scripts = re.findall(r"<script([^>]*)>", page)
    assert sorted(scripts) == sorted([' type="application/json" id="dashboard-data"',
                                      ' src="/static/vendor/uPlot.iife.min.js" defer',
                                      ' src="/static/dashboard.js" defer']), "data, uPlot and ours; nothing inline"
    assert "style=" not in page, "no inline style (the CSP forbids it)"
