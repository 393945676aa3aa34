"""Web security of the console, in-process (no services needed): headers,
cookies, CSRF, idle sign-out, and no personal data in URLs or logs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from alongside.console.app import create_app
from alongside.console.settings import ConsoleSettings

SECRET = "s" * 40
BASE = "http://127.0.0.1:8080"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client_for(clock: Clock, **overrides: object) -> Iterator[TestClient]:
    values: dict[str, object] = {"dev_sign_in": True, "auth_hs256_secret": SECRET, "idle_timeout_seconds": 60.0}
    settings = ConsoleSettings.from_env({}, **{**values, **overrides})
    app = create_app(settings)
    app.state.store.clock = clock
    with TestClient(app, base_url=BASE) as client:
        yield client


@pytest.fixture
def client(clock: Clock) -> Iterator[TestClient]:
    yield from client_for(clock)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, role: str = "intake", subject: str = "staff-1") -> str:
    token = csrf(client.get("/sign-in").text)
    reply = client.post("/sign-in/dev", data={"role": role, "subject": subject, "csrf_token": token},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
    fresh = csrf(client.get("/sign-in").text)
    assert fresh != token, "signing in gives a new CSRF secret"
    return fresh


def test_every_page_has_a_strict_csp_and_no_store(client: TestClient) -> None:
    reply = client.get("/sign-in")
    csp = reply.headers["content-security-policy"]
    for rule in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
        assert rule in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in reply.text and " style=" not in reply.text and " on" + "click=" not in reply.text


def test_the_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    cookie = client.get("/sign-in").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development on loopback: plain http


def test_outside_development_the_cookie_is_secure(clock: Clock) -> None:
    for client in client_for(clock, dev_sign_in=False):
        assert "; Secure" in client.get("/sign-in").headers["set-cookie"]


def test_signing_in_rotates_the_session_id(client: TestClient) -> None:
    before = client.get("/sign-in").cookies.get("alongside_session") or client.cookies.get("alongside_session")
    sign_in(client)
    assert client.cookies.get("alongside_session") not in (None, before)


def test_a_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    token = sign_in(client)
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    cross_site = client.post("/sign-out", data={"csrf_token": token}, headers={"origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert client.get("/intake/new").status_code == 200  # still signed in: nothing was done
    # htmx sends it as a header.
    assert client.post("/sign-out", headers={"x-csrf-token": token}, follow_redirects=False).status_code == 303


def test_the_session_ends_after_the_idle_timeout(client: TestClient, clock: Clock) -> None:
    sign_in(client)
    clock.now += 59
    assert client.get("/intake/new").status_code == 200  # activity restarts the clock
    clock.now += 59
    assert client.get("/intake/new").status_code == 200
    clock.now += 61
    reply = client.get("/intake/new", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/sign-in?reason=idle"
    assert client.get("/intake/new", follow_redirects=False).headers["location"] == "/sign-in"


def test_htmx_requests_are_sent_to_sign_in_with_hx_redirect(client: TestClient) -> None:
    reply = client.get("/intake/requests", headers={"hx-request": "true"})
    assert reply.headers["hx-redirect"] == "/sign-in"


def test_the_participant_reference_never_reaches_a_url_or_a_log(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    token = sign_in(client)
    client.post("/intake/validate", data={"csrf_token": token, "participant_ref": "REF-CANARY-77"},
                headers={"hx-request": "true"})
    page = client.get("/intake/new").text
    assert 'method="post" action="/intake"' in page
    logged = capsys.readouterr()
    assert "REF-CANARY-77" not in logged.out + logged.err


def test_a_form_from_a_session_that_went_idle_leads_to_sign_in_not_a_bare_403(client: TestClient, clock: Clock) -> None:
    token = sign_in(client)
    clock.now += 61
    reply = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/sign-in?reason=idle"
    htmx = client.post("/sign-out", headers={"x-csrf-token": token, "hx-request": "true"})
    assert htmx.status_code == 403  # a new anonymous session now: this token was never its own


def test_forms_may_lead_to_the_openid_provider_and_nowhere_else() -> None:
    """The browser applies form-action to the redirect after "Sign in with ..." and
    "Sign out": the provider's origin is allowed beside the console's own, nothing more."""
    from alongside.console.security import csp, origin

    assert "form-action 'self';" in csp(origin(""))
    policy = csp(origin("https://idp.example.org/realms/alongside"))
    assert "form-action 'self' https://idp.example.org;" in policy
    assert "default-src 'self';" in policy and "frame-ancestors 'none'" in policy
