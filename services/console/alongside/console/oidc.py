"""Sign-in with the programme's OpenID provider: authorization code + PKCE.

``GET|POST /signin/oidc`` sends the browser to the provider with a fresh
``state``, ``nonce`` and S256 code challenge, kept server-side under a random,
short-lived cookie. ``GET /signin/oidc/callback`` checks the state (each one
works once), exchanges the code with the client secret and code verifier,
and validates the id token (signature by the provider's JWKS, issuer,
audience, nonce, expiry). The access token is then verified exactly as the
services will verify it (the kit's JWKS verifier, same audience and role
claim), so nobody is signed in whom the services would refuse. The console's
``on_signed_in(request, SignedIn)`` starts the session and answers.

authlib does the protocol; its state is kept in ``PendingSignIns`` (in
memory, like the console's sessions), handed to it as ``request.session``.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from alongside.console.oidc_settings import OidcSettings
from alongside.kit.auth.jwks import JwksIssuer
from alongside.kit.auth.tokens import EXTERNAL_ALGORITHMS, Verifier
from alongside.kit.errors import Unauthenticated
from alongside.kit.logging import get_logger
from alongside.kit.settings import check_fetch_url

with warnings.catch_warnings():  # authlib would rather use httpx2; httpx is what we pin
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.starlette_client import OAuth

log = get_logger(__name__)

START, CALLBACK, SIGN_OUT = "/signin/oidc", "/signin/oidc/callback", "/signout/oidc"
COOKIE = "alongside_oidc"
PENDING_TTL_S = 600
FAILED = "/sign-in?reason=failed"


@dataclasses.dataclass(frozen=True)
class SignedIn:
    access_token: str  # the bearer token for the services
    id_token: str
    subject: str
    role: str
    expires: float  # epoch seconds


OnSignedIn = Callable[[Request, SignedIn], Awaitable[Response]]
# Ends the console's session; returns the id token it held (the provider's logout hint), if any.
OnSignedOut = Callable[[Request], Awaitable[str | None]]


class PendingSignIns:
    """Sign-ins under way: a random id (the cookie) -> authlib's state data."""

    def __init__(self, ttl_s: float = PENDING_TTL_S, limit: int = 10_000) -> None:
        self._ttl, self._limit = ttl_s, limit
        self._held: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, sid: str) -> dict[str, Any] | None:
        held = self._held.get(sid)
        if held is None or held[0] < time.monotonic():
            self._held.pop(sid, None)
            return None
        return held[1]

    def open(self, sid: str) -> tuple[str, dict[str, Any]]:
        """The bag under ``sid`` if still live (two tabs may sign in at once), else a new one."""
        bag = self.get(sid)
        if bag is None:
            sid, bag = secrets.token_urlsafe(32), {}
        self._held[sid] = (time.monotonic() + self._ttl, bag)
        self._held.move_to_end(sid)
        while len(self._held) > self._limit:
            self._held.popitem(last=False)
        return sid, bag

    def drop(self, sid: str) -> None:
        self._held.pop(sid, None)


class OidcSignIn:
    def __init__(
        self,
        settings: OidcSettings,
        on_signed_in: OnSignedIn,
        on_signed_out: OnSignedOut | None = None,
        verifier: Verifier | None = None,
    ) -> None:
        self.settings, self._on_signed_in, self._on_signed_out = settings, on_signed_in, on_signed_out
        self._verifier = verifier or Verifier(
            [],
            settings.oidc_issuer,
            settings.auth_oidc_audience,
            external=JwksIssuer(settings.oidc_issuer, settings.auth_oidc_audience, role_claim=settings.auth_role_claim),
        )
        self.pending = PendingSignIns()
        oauth = OAuth()
        self._client: Any = oauth.register(
            "provider",
            client_id=settings.oidc_client_id,
            client_secret=settings.client_secret,
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256", "timeout": 5.0},
        )

    def routes(self) -> list[Route]:
        return [
            Route(START, self.start, methods=["GET", "POST"]),
            Route(CALLBACK, self.callback),
            Route(SIGN_OUT, self.sign_out, methods=["POST"]),
        ]

    async def _metadata(self) -> dict[str, Any]:
        """The provider's metadata, checked once: it must name our issuer; the
        id token is accepted only in the algorithms the kit accepts."""
        metadata: dict[str, Any] = await self._client.load_server_metadata()
        if metadata.get("issuer") != self.settings.oidc_issuer:
            metadata.pop("_loaded_at", None)  # try again next time
            raise ValueError("the provider's discovery document names another issuer")
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            check_fetch_url(str(metadata.get(endpoint, "")))
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        metadata["id_token_signing_alg_values_supported"] = [a for a in offered if a in EXTERNAL_ALGORITHMS]
        return metadata

    async def start(self, request: Request) -> Response:
        try:
            await self._metadata()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("console.oidc_unavailable", error=type(exc).__name__)
            return RedirectResponse(FAILED, status_code=303)
        sid, bag = self.pending.open(request.cookies.get(COOKIE, ""))
        request.scope["session"] = bag
        try:
            response: Response = await self._client.authorize_redirect(request, self.settings.oidc_redirect_url)
        finally:
            del request.scope["session"]
        response.status_code = 303
        response.headers["cache-control"] = "no-store"
        response.set_cookie(
            COOKIE,
            sid,
            max_age=PENDING_TTL_S,
            path=START,
            httponly=True,
            secure=self.settings.secure_cookie,
            samesite="lax",  # the provider sends the browser back with a top-level GET
        )
        return response

    async def callback(self, request: Request) -> Response:
        sid = request.cookies.get(COOKIE, "")
        bag = self.pending.get(sid)
        if bag is None:
            return self._failed("no_sign_in_under_way")
        request.scope["session"] = bag
        try:
            await self._metadata()
            token = await self._client.authorize_access_token(request, leeway=30)
            signed = await self._accept(token)
        except (AuthlibBaseError, JoseError, httpx.HTTPError, Unauthenticated, ValueError, KeyError) as exc:
            return self._failed(type(exc).__name__)
        finally:
            del request.scope["session"]
            if not bag:
                self.pending.drop(sid)
        response = await self._on_signed_in(request, signed)
        response.delete_cookie(COOKIE, path=START)
        return response

    async def _accept(self, token: Mapping[str, Any]) -> SignedIn:
        userinfo = token.get("userinfo")
        if not userinfo or not token.get("id_token"):
            raise ValueError("the provider sent no id token")
        identity = await self._verifier.verify_async(str(token["access_token"]))
        if identity.subject != userinfo["sub"]:
            raise ValueError("the access token is for another subject than the id token")
        expires = float(token.get("expires_at") or time.time() + 300)
        return SignedIn(token["access_token"], token["id_token"], identity.subject, identity.role, expires)

    def _failed(self, why: str) -> Response:
        log.warning("console.oidc_sign_in_failed", error=why)
        response = RedirectResponse(FAILED, status_code=303)
        response.delete_cookie(COOKIE, path=START)
        return response

    async def sign_out(self, request: Request) -> Response:
        """POST (the console's CSRF check applies): end the console's session,
        then the provider's, which sends the browser to OIDC_POST_LOGOUT_URL."""
        id_token = await self._on_signed_out(request) if self._on_signed_out is not None else None
        url = await self.sign_out_url(id_token or "")
        return RedirectResponse(url or "/sign-in?reason=signed-out", status_code=303)

    async def sign_out_url(self, id_token: str = "") -> str | None:
        """The provider's end-session URL (RP-initiated logout), if it has one.

        The console drops its own session first, then sends the browser here.
        """
        try:
            metadata = await self._metadata()
        except (httpx.HTTPError, ValueError):
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        logout = await self._client.create_logout_url(
            post_logout_redirect_uri=self.settings.oidc_post_logout_url or None,
            id_token_hint=id_token or None,
            client_id=self.settings.oidc_client_id,
        )
        return str(logout["url"])


def routes(console_settings: Any, env: Mapping[str, str] | None = None) -> list[Route]:
    """The console's seam (``app.oidc_routes``): settings from the environment
    (read at start-up, so a bad one stops the console), sessions the console's."""
    import os

    settings = OidcSettings.from_env(os.environ if env is None else env, oidc_issuer=console_settings.oidc_issuer)
    return OidcSignIn(settings, _console_sign_in, _console_sign_out).routes()


async def _console_sign_in(request: Request, signed: SignedIn) -> Response:
    from alongside.console.routes import auth

    auth.sign_in(request, signed.access_token, signed.role, signed.subject, signed.expires, signed.id_token)
    return RedirectResponse(auth.HOME.get(signed.role, "/"), status_code=303)


async def _console_sign_out(request: Request) -> str | None:
    from alongside.console.routes import auth

    return auth.end_session(request) or None
