"""Server-side sessions: the cookie holds only a random id.

A session holds the bearer token, role, subject, CSRF secret, language and
the time of the last request: no participant data. Every visitor gets one on
the first request (the sign-in form needs its CSRF token too); signing in
rotates the id, so an id planted before sign-in is worthless after it.

A session idle for longer than the timeout is dropped on its next request
(and the request told so); one whose token has expired likewise.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "alongside_session"
SCOPE_KEY = "alongside.session"
EXPIRED_KEY = "alongside.session_expired"
# Requests that do not count as activity: the live inbox reconnects by itself.
PASSIVE_PATHS = ("/inbox/stream", "/static/")


@dataclass
class Session:
    sid: str
    csrf: str
    last_seen: float
    language: str = "en"
    token: str = ""
    role: str = ""
    subject: str = ""
    token_expires: float = 0.0
    # OpenID Connect: the id token, the provider's hint at sign-out ("" for a development sign-in).
    id_token: str = field(default="", repr=False)
    # Set when the cookie must be (re)sent: a new or rotated session.
    fresh: bool = field(default=True, repr=False)

    @property
    def signed_in(self) -> bool:
        return bool(self.token)


class SessionStore:
    """In-process sessions, least recently used first out beyond ``limit``."""

    def __init__(self, idle_timeout_s: float, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.idle_timeout_s, self.limit, self.clock = idle_timeout_s, limit, clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def new(self, language: str = "en") -> Session:
        self._sweep()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock(), language)
        self._sessions[session.sid] = session
        while len(self._sessions) > self.limit:
            self._sessions.popitem(last=False)
        return session

    def _sweep(self) -> None:
        """Drop idle sessions: the least recently seen come first, so stop at the first live one."""
        cutoff = self.clock() - self.idle_timeout_s
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if oldest.last_seen >= cutoff:
                return
            del self._sessions[oldest.sid]

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, sid: str) -> tuple[Session | None, bool]:
        """The live session with this id, and whether one was dropped as expired."""
        session = self._sessions.get(sid)
        if session is None:
            return None, False
        now = self.clock()
        if now - session.last_seen > self.idle_timeout_s or (session.token and now >= session.token_expires):
            del self._sessions[sid]
            return None, session.signed_in
        session.fresh = False
        return session, False

    def alive(self, session: Session) -> bool:
        """Whether ``session`` is still held and not idle too long (the live inbox asks)."""
        return self.get(session.sid)[0] is session

    def touch(self, session: Session) -> None:
        session.last_seen = self.clock()
        self._sessions.move_to_end(session.sid)

    def sign_in(self, old: Session, token: str, role: str, subject: str, expires: float) -> Session:
        """A new session (new id, new CSRF secret) for the signed-in person."""
        self.drop(old)
        session = self.new(old.language)
        session.token, session.role, session.subject, session.token_expires = token, role, subject, expires
        return session

    def drop(self, session: Session) -> None:
        self._sessions.pop(session.sid, None)


def current(request: Request) -> Session:
    session: Session = request.scope[SCOPE_KEY]
    return session


def replace(request: Request, session: Session) -> None:
    """Make ``session`` the request's (after sign-in or sign-out); its cookie goes out with the response."""
    request.scope[SCOPE_KEY] = session


class SessionMiddleware:
    def __init__(self, app: ASGIApp, store: SessionStore, secure: bool) -> None:
        self.app, self.store, self.secure = app, store, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sid = _cookie(scope)
        session, expired = self.store.get(sid) if sid else (None, False)
        if session is None:
            session = self.store.new()
        if not scope["path"].startswith(PASSIVE_PATHS):
            self.store.touch(session)
        scope[SCOPE_KEY] = session
        scope[EXPIRED_KEY] = expired

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                now: Session = scope[SCOPE_KEY]
                if now.fresh:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", self.cookie(now.sid).encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def cookie(self, sid: str) -> str:
        # Lax, not Strict: the OpenID Connect callback is a cross-site top-level GET that must carry it.
        parts = [f"{COOKIE}={sid}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)


def _cookie(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no session
                return ""
            morsel: Any = jar.get(COOKIE)
            if morsel is not None:
                return str(morsel.value)
    return ""
