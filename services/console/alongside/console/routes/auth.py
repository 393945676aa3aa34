"""Sign-in, sign-out and the language switch.

Development sign-in mints a token with the development secret (kit
``Minter``); the route exists only when the settings allow it (loopback,
flag and secret: see ``ConsoleSettings``). OpenID Connect sign-in lives in
``alongside.console.oidc`` and signs people in through ``sign_in`` below.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.console import i18n, sessions, views
from alongside.console.routes.common import redirect
from alongside.console.settings import ConsoleSettings
from alongside.kit.auth.tokens import Minter

DEV_ROLES = ("intake", "manager", "peer")
HOME = {"intake": "/intake/new", "manager": "/roster", "admin": "/roster", "peer": "/calendar"}
# Why the sign-in page was shown: idle sign-out, expired token, signed out, or
# an OpenID Connect sign-in that failed (alongside.console.oidc.FAILED).
REASONS = ("idle", "token", "signed-out", "failed")


def sign_in(request: Request, token: str, role: str, subject: str, expires: float, id_token: str = "") -> None:
    """Start the person's session (a new id and CSRF secret). The OIDC callback calls this too."""
    store = request.app.state.store
    session = store.sign_in(sessions.current(request), token, role, subject, expires)
    session.id_token = id_token
    sessions.replace(request, session)


def end_session(request: Request) -> str:
    """Drop the person's session for a fresh, signed-out one (same language);
    returns the OpenID id token it held ("" for a development sign-in)."""
    store = request.app.state.store
    old = sessions.current(request)
    store.drop(old)
    sessions.replace(request, store.new(old.language))
    return old.id_token


def oidc_provider(settings: ConsoleSettings) -> str:
    """The provider's name on the sign-in button; "" when OpenID Connect is off."""
    return (settings.oidc_provider_name or settings.oidc_issuer) if settings.oidc_issuer else ""


async def home(request: Request) -> Response:
    session = sessions.current(request)
    return redirect(request, HOME.get(session.role, "/sign-in") if session.signed_in else "/sign-in")


async def sign_in_page(request: Request) -> Response:
    settings = request.app.state.settings
    reason = request.query_params.get("reason", "")
    return views.render(
        request,
        "sign_in.html",
        {
            "reason": reason if reason in REASONS else "",
            "dev": settings.dev_sign_in,
            "roles": DEV_ROLES,
            "oidc_provider": oidc_provider(settings),
            "errors": {},
            "subject": "",
        },
    )


async def dev_sign_in(request: Request) -> Response:
    settings = request.app.state.settings
    form = await request.form()
    role, subject = str(form.get("role", "")), str(form.get("subject", "")).strip()
    errors = {}
    if role not in DEV_ROLES:
        errors["role"] = "Choose a role"
    if not subject or len(subject) > 64:
        errors["subject"] = "Enter a subject of 1 to 64 characters"
    if errors:
        context = {"reason": "", "dev": True, "roles": DEV_ROLES, "oidc_provider": oidc_provider(settings),
                   "errors": errors, "subject": subject}
        return views.render(request, "sign_in.html", context, status=400)
    minter = Minter(settings.auth_hs256_secret, "HS256", settings.auth_issuer, settings.auth_audience)
    ttl = settings.dev_token_ttl_seconds
    sign_in(request, minter.mint(subject, role, ttl), role, subject, time.time() + ttl)
    return redirect(request, HOME[role])


async def sign_out(request: Request) -> Response:
    end_session(request)
    return redirect(request, "/sign-in?reason=signed-out")


async def language(request: Request) -> Response:
    form = await request.form()
    session = sessions.current(request)
    session.language = i18n.chosen(str(form.get("lang", "")))
    back = str(form.get("next", "/"))
    return redirect(request, back if back.startswith("/") and not back.startswith("//") else "/")


def routes(dev_sign_in_enabled: bool) -> list[Route]:
    found = [
        Route("/", home),
        Route("/sign-in", sign_in_page),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/language", language, methods=["POST"]),
    ]
    if dev_sign_in_enabled:
        found.append(Route("/sign-in/dev", dev_sign_in, methods=["POST"]))
    return found
