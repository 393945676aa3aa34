"""The console's OpenID Connect sign-in against a real provider with real keys.

The console side is a Starlette app driven in-process by httpx; the provider
is a real HTTP server (``oidc_provider``). Redirects are followed by hand, as
a browser would: console -> provider's authorize -> console's callback.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from alongside.console.oidc import CALLBACK, COOKIE, FAILED, SIGN_OUT, START, OidcSignIn, SignedIn, routes
from alongside.console.oidc_settings import OidcSettings
from alongside.kit.auth import setup as auth_setup
from alongside.kit.settings import ConfigError, Settings
from alongside.kit.testing.oidc_provider import OidcProvider

CONSOLE = "http://127.0.0.1:8080"
REDIRECT = CONSOLE + CALLBACK


@dataclass
class Console:
    http: httpx.AsyncClient  # the browser, on the console
    provider: OidcProvider
    signed_in: list[SignedIn] = field(default_factory=list)
    signed_out: list[str] = field(default_factory=list)

    async def start(self) -> str:
        """Start a sign-in; the provider's authorize URL the browser is sent to."""
        response = await self.http.get("/signin/oidc")
        assert response.status_code == 303, response.text
        assert COOKIE in response.headers["set-cookie"] and "httponly" in response.headers["set-cookie"].lower()
        return response.headers["location"]

    async def at_provider(self, authorize_url: str) -> str:
        """The browser at the provider, which signs ``provider.user`` in at once: the callback URL."""
        async with httpx.AsyncClient() as browser:
            response = await browser.get(authorize_url)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT)
        return location

    async def back(self, callback_url: str) -> httpx.Response:
        return await self.http.get(callback_url.removeprefix(CONSOLE))


@pytest.fixture
async def console(oidc_provider: OidcProvider, tmp_path: Path) -> AsyncIterator[Console]:
    oidc_provider.redirect_uris = (REDIRECT,)
    oidc_provider.post_logout_uris = (CONSOLE + "/sign-in",)
    secret = tmp_path / "client-secret"
    secret.write_text(oidc_provider.client_secret + "\n")
    settings = OidcSettings.from_env(
        {
            "OIDC_ISSUER": oidc_provider.issuer,
            "OIDC_CLIENT_ID": oidc_provider.client_id,
            "OIDC_CLIENT_SECRET_FILE": str(secret),
            "OIDC_REDIRECT_URL": REDIRECT,
            "OIDC_SCOPES": "openid profile",
            "OIDC_POST_LOGOUT_URL": CONSOLE + "/sign-in",
        }
    )
    state = Console(httpx.AsyncClient(), oidc_provider)

    async def on_signed_in(request: Request, signed: SignedIn) -> Response:
        state.signed_in.append(signed)
        return RedirectResponse("/home", status_code=303)

    async def on_signed_out(request: Request) -> None:
        state.signed_out.append("console session dropped")

    app = Starlette(routes=OidcSignIn(settings, on_signed_in, on_signed_out).routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=CONSOLE) as http:
        state.http = http
        yield state


async def test_the_full_code_and_pkce_flow_signs_in_a_token_the_services_accept(console: Console) -> None:
    console.provider.user = ("m-42", "manager")
    authorize_url = await console.start()
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert "code_verifier" not in query and query["nonce"][0] and query["state"][0]
    assert query["scope"] == ["openid profile"]

    response = await console.back(await console.at_provider(authorize_url))
    assert (response.status_code, response.headers["location"]) == (303, "/home")
    [signed] = console.signed_in
    assert (signed.subject, signed.role) == ("m-42", "manager")
    # The services, configured with the same provider, accept the token the console holds.
    services = auth_setup.verifier(
        Settings.from_env(
            {"SERVICE_NAME": "matcher", "AUTH_HS256_SECRET": "s" * 32, "AUTH_OIDC_ISSUER": console.provider.issuer}
        )
    )
    identity = await services.verify_async(signed.access_token)
    assert (identity.subject, identity.role) == ("m-42", "manager")
    assert COOKIE in response.headers.get("set-cookie", "")  # the pending sign-in's cookie is cleared


async def test_a_wrong_state_is_refused_before_the_code_is_exchanged(console: Console) -> None:
    callback = await console.at_provider(await console.start())
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    response = await console.back(f"{REDIRECT}?{urlencode({**query, 'state': 'forged-state'})}")
    assert (response.status_code, response.headers["location"]) == (303, FAILED)
    assert console.signed_in == [] and console.provider.hits["/token"] == 0


async def test_a_callback_without_the_browsers_pending_sign_in_is_refused(console: Console) -> None:
    callback = await console.at_provider(await console.start())
    console.http.cookies.clear()  # another browser: a login-CSRF attempt
    response = await console.back(callback)
    assert response.headers["location"] == FAILED and console.signed_in == []


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"], claims["sub"] = "admin", "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("change", ["tampered", "wrong-nonce", "wrong-audience", "unsigned", "alg-none"])
async def test_a_bad_id_token_is_refused(console: Console, change: str) -> None:
    provider = console.provider

    def rewrite(token: str) -> str:
        if change == "tampered":
            return _tamper(token)
        if change == "wrong-nonce":
            return provider.mint({"aud": provider.client_id, "nonce": "not-the-one-sent"})
        if change == "wrong-audience":
            return provider.mint({"aud": "another-client", "nonce": "x"})
        if change == "alg-none":
            none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
            return f"{none}.{token.split('.')[1]}."
        return token.rsplit(".", 1)[0] + "."

    provider.id_token_filter = rewrite
    response = await console.back(await console.at_provider(await console.start()))
    assert (response.status_code, response.headers["location"]) == (303, FAILED)
    assert console.signed_in == []


async def test_a_replayed_code_is_refused(console: Console) -> None:
    callback = await console.at_provider(await console.start())
    assert (await console.back(callback)).headers["location"] == "/home"
    # The same callback again: its state was used.
    assert (await console.back(callback)).headers["location"] == FAILED
    # The old code under a fresh sign-in's state: the provider honours a code once.
    fresh = parse_qs(urlsplit(await console.start()).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    response = await console.back(f"{REDIRECT}?{urlencode({'code': code, 'state': fresh})}")
    assert response.headers["location"] == FAILED
    assert len(console.signed_in) == 1 and console.provider.hits["/token"] == 2


async def test_a_role_the_services_would_refuse_signs_nobody_in(console: Console) -> None:
    console.provider.user = ("x-1", "superuser")
    response = await console.back(await console.at_provider(await console.start()))
    assert response.headers["location"] == FAILED and console.signed_in == []


async def test_sign_out_ends_the_console_session_then_the_providers(console: Console) -> None:
    response = await console.http.post("/signout/oidc")
    assert response.status_code == 303 and console.signed_out == ["console session dropped"]
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == console.provider.issuer + "/logout"
    query = parse_qs(target.query)
    assert query["client_id"] == [console.provider.client_id]
    assert query["post_logout_redirect_uri"] == [CONSOLE + "/sign-in"]
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(response.headers["location"])).headers["location"] == CONSOLE + "/sign-in"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"OIDC_ISSUER": "http://idp.example.org"}, "OIDC_ISSUER must be an https URL"),
        ({"OIDC_REDIRECT_URL": "http://console.example.org/cb"}, "OIDC_REDIRECT_URL must be an https URL"),
        ({"OIDC_SCOPES": "profile"}, "OIDC_SCOPES must include openid"),
        ({"OIDC_CLIENT_SECRET_FILE": "/nonexistent/secret"}, "OIDC_CLIENT_SECRET_FILE: cannot read it"),
        ({"OIDC_CLIENT_ID": ""}, "OIDC_CLIENT_ID"),
    ],
)
def test_bad_settings_fail_at_start(tmp_path: Path, change: dict[str, str], message: str) -> None:
    secret = tmp_path / "s"
    secret.write_text("s3cret")
    env = {
        "OIDC_ISSUER": "https://idp.example.org",
        "OIDC_CLIENT_ID": "console",
        "OIDC_CLIENT_SECRET_FILE": str(secret),
        "OIDC_REDIRECT_URL": "https://console.example.org" + CALLBACK,
    }
    with pytest.raises(ConfigError, match=message):
        OidcSettings.from_env({**env, **change})
    assert "s3cret" not in repr(OidcSettings.from_env(env))


def test_the_console_seam_reads_the_rest_from_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "s"
    secret.write_text("s3cret")
    env = {
        "OIDC_CLIENT_ID": "console",
        "OIDC_CLIENT_SECRET_FILE": str(secret),
        "OIDC_REDIRECT_URL": "https://console.example.org" + CALLBACK,
    }

    class ConsoleSettings:  # the console's own settings carry the issuer
        oidc_issuer = "https://idp.example.org"

    assert [r.path for r in routes(ConsoleSettings(), env)] == [START, CALLBACK, SIGN_OUT]
    assert OidcSettings.from_env({**env, "OIDC_ISSUER": "https://idp.example.org"}).secure_cookie
    with pytest.raises(ConfigError, match="OIDC_CLIENT_ID is required"):
        routes(ConsoleSettings(), {})
