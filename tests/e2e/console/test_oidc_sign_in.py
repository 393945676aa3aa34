"""Sign-in through the programme's OpenID provider, in the browser.

The services of the e2e stack trust the test provider (AUTH_OIDC_ISSUER,
tests/e2e/conftest.py); this console offers only the provider (no
development sign-in). A person signs in there, lands on their role's home
page, makes calls the services authorise with the provider's token (the
intake form finds a shortlist; the audit trail names them), then signs out
through the provider. A sign-in the provider's token cannot back (a role the
services would refuse) ends on the sign-in page with the reason, in both
languages.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from alongside.kit.testing.oidc_provider import OidcProvider
from alongside.kit.testing.processes import Child

from ..api import Api
from ..cohort import Cohort
from ..conftest import Stack
from .conftest import Browse, Console, OpenWindow, console_env
from .test_intake_journey import fill_intake

PROVIDER_NAME = "Test Identity"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def oidc_console(stack: Stack, oidc: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A console with OpenID Connect on and the development sign-in off."""
    base = f"http://127.0.0.1:{free_port()}"
    secret = Path(tmp_path_factory.mktemp("oidc")) / "client-secret"
    secret.write_text(oidc.client_secret)
    oidc.redirect_uris = (base + "/signin/oidc/callback",)
    oidc.post_logout_uris = (base + "/sign-in?reason=signed-out",)
    env = console_env(
        stack,
        CONSOLE_ADDR=base.removeprefix("http://"),
        DEV_SIGN_IN="false",
        OIDC_ISSUER=oidc.issuer,
        OIDC_PROVIDER_NAME=PROVIDER_NAME,
        OIDC_CLIENT_ID=oidc.client_id,
        OIDC_CLIENT_SECRET_FILE=str(secret),
        OIDC_REDIRECT_URL=oidc.redirect_uris[0],
        OIDC_POST_LOGOUT_URL=oidc.post_logout_uris[0],
    )
    child = Child("alongside.console", env)
    try:
        yield Console(child)
    finally:
        stack.retired_output.append(child.output())
        child.close()


async def sign_in_with_provider(window: Browse) -> None:
    await window.visit("/sign-in")
    async with window.page.expect_navigation():
        await window.page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    await window.settled()


async def test_a_person_signs_in_through_the_provider_works_and_signs_out(
    api: Api, oidc: OidcProvider, oidc_console: Console, open_window: OpenWindow, planted: set[str]
) -> None:
    cohort = Cohort()
    ref = f"ref-{cohort.tag}-o"
    planted.add(ref)
    peer = cohort.peer(1)
    await api.enrol(cohort, peer)
    staff = f"staff-{cohort.tag}"
    oidc.user = (staff, "intake")

    window = await open_window(oidc_console.url)
    page = window.page
    await window.visit("/sign-in")
    await expect(page.locator("form[action='/sign-in/dev']")).to_have_count(0)  # development sign-in is off
    await sign_in_with_provider(window)
    await expect(page).to_have_url(oidc_console.url + "/intake/new")
    await expect(page.locator(".who")).to_contain_text(f"Signed in as {staff}")
    assert oidc.hits["/token"] >= 1

    # A call made with the provider's token, authorised by the matcher.
    await fill_intake(window, cohort, ref)
    await page.locator("#field-consent_scope").fill("peer-support")
    await page.locator("#consent_recipients-assigned-peer").check()
    await page.get_by_role("button", name="Find peers").click()
    await expect(page.get_by_role("heading", name="Shortlist")).to_be_visible()
    await expect(page.locator(f"#candidate-{peer.peer_id}")).to_contain_text(peer.display_name)
    await window.settled()

    # Sign out: the console's session ends, then the provider's, which sends the browser back.
    logouts = oidc.hits["/logout"]
    async with page.expect_navigation(url=f"{oidc_console.url}/sign-in?reason=signed-out"):
        await page.get_by_role("button", name="Sign out").click()
    await window.settled()
    await expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert oidc.hits["/logout"] == logouts + 1
    await window.visit("/intake/new")
    await expect(page).to_have_url(oidc_console.url + "/sign-in")


async def test_a_sign_in_the_services_would_refuse_says_so_in_both_languages(
    oidc: OidcProvider, oidc_console: Console, open_window: OpenWindow
) -> None:
    oidc.user = ("someone", "superuser")  # no Alongside role
    window = await open_window(oidc_console.url)
    page = window.page
    await sign_in_with_provider(window)
    await expect(page).to_have_url(oidc_console.url + "/sign-in?reason=failed")
    await expect(page.get_by_role("alert")).to_contain_text("Sign-in did not work")
    await expect(page.locator(".who")).to_have_count(0)
    await page.get_by_role("button", name="Español").click()
    await window.settled()
    async with page.expect_navigation():
        await page.get_by_role("button", name=f"Iniciar sesión con {PROVIDER_NAME}").click()
    await window.settled()
    await expect(page).to_have_url(oidc_console.url + "/sign-in?reason=failed")
    await expect(page.get_by_role("alert")).to_contain_text("No se ha podido iniciar sesión")
