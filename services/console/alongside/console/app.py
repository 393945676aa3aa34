"""The composition root: settings -> the Starlette app with its middleware and routes.

Outermost first: security headers on every response, the session, the CSRF
check on every unsafe request, the language of the session, an access log
without query strings. Nothing connects at import; the channels open in the
lifespan.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from grpc import aio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alongside.console import i18n, sessions
from alongside.console.routes import (
    audit,
    auth,
    batch,
    dashboard,
    group_sessions,
    groups,
    intake,
    participants,
    peer,
    preferences,
    requests,
    roster,
    roster_edit,
)
from alongside.console.routes.common import Forbidden, SignInRequired, forbidden, rpc_failed, sign_in_required
from alongside.console.rpc import Backends
from alongside.console.security import CsrfProtect, SecurityHeaders, origin
from alongside.console.settings import ConsoleSettings

STATIC = Path(__file__).parent / "static"
log = structlog.get_logger("alongside.console")


class Language:
    """The session's language for everything rendered in this request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            i18n.activate(scope[sessions.SCOPE_KEY].language)
        await self.app(scope, receive, send)


class AccessLog:
    """One line per request: method, path (no query string), status, time. Paths hold
    opaque ids only; participant references travel in POST bodies, never in URLs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            ms = round((time.perf_counter() - started) * 1000, 1)
            log.info("request", method=scope["method"], path=scope["path"], status=status, ms=ms)


def oidc_routes(settings: ConsoleSettings) -> list[BaseRoute]:
    """The seam for OpenID Connect: ``alongside.console.oidc.routes(settings)`` when the issuer is set."""
    if not settings.oidc_issuer:
        return []
    from alongside.console import oidc

    return list(oidc.routes(settings))


def create_app(settings: ConsoleSettings, backends: Backends | None = None) -> Starlette:
    i18n.load()
    store = sessions.SessionStore(settings.idle_timeout_seconds, settings.max_sessions)
    backends = backends or Backends(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        backends.open()
        try:
            yield
        finally:
            await backends.close()

    routes: list[BaseRoute] = [
        *auth.routes(settings.dev_sign_in),
        *oidc_routes(settings),
        *requests.routes(),
        *intake.routes(),
        *peer.routes(),
        *participants.routes(),
        *roster_edit.routes(),
        *roster.routes(),
        *preferences.routes(),
        *batch.routes(),
        *audit.routes(),
        *dashboard.routes(),
        *group_sessions.routes(),
        *groups.routes(),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, form_targets=origin(settings.oidc_issuer)),
            Middleware(sessions.SessionMiddleware, store=store, secure=settings.secure_cookies),
            Middleware(CsrfProtect),
            Middleware(Language),
            Middleware(AccessLog),
        ],
        exception_handlers={
            SignInRequired: sign_in_required,
            Forbidden: forbidden,
            aio.AioRpcError: rpc_failed,
        },
        lifespan=lifespan,
    )
    app.state.settings, app.state.store, app.state.backends = settings, store, backends
    return app
