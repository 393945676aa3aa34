"""Response headers every page gets, and the CSRF check on every unsafe request.

CSRF: each session holds a random secret; every form carries it in a hidden
``csrf_token`` field and htmx sends it as the ``X-CSRF-Token`` header (set
once on ``<body>``). A POST (or any unsafe method) without the right one, or
from another origin, is refused with 403 before any route runs.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alongside.console import sessions

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make Chromium send "Origin: null"
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# Pages may show participant data: no copy in any cache. Vendored static files may be cached.
NO_STORE = (b"cache-control", b"no-store")
STATIC_CACHE = (b"cache-control", b"public, max-age=3600")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"
MAX_FORM_BYTES = 2 * 1024 * 1024


def csp(form_targets: str = "") -> str:
    """The policy; ``form_targets`` are origins a form may lead to besides the
    console: the OpenID provider's, since the browser applies ``form-action``
    to the redirect after "Sign in with ..." and "Sign out" too."""
    return CSP.replace("form-action 'self'", f"form-action 'self' {form_targets}".rstrip())


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL ("" when it has none)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class SecurityHeaders:
    def __init__(self, app: ASGIApp, form_targets: str = "") -> None:
        self.app = app
        self.headers = ((b"content-security-policy", csp(form_targets).encode()), *HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cache = STATIC_CACHE if scope["path"].startswith("/static/") else NO_STORE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*kept, *self.headers, cache]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CsrfProtect:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session = sessions.current(request)
        if not _same_origin(request):
            await _refuse(scope, receive, send, "cross-origin request refused")
            return
        given = request.headers.get(CSRF_HEADER, "")
        replay = receive
        if not given:
            body, complete = await _read(receive)
            if not complete:
                await PlainTextResponse("form too large", status_code=413)(scope, receive, send)
                return
            form = await Request(scope, _replaying(body, receive)).form()
            value = form.get(CSRF_FIELD, "")
            given = value if isinstance(value, str) else ""
            replay = _replaying(body, receive)
        if not given or not hmac.compare_digest(given.encode(), session.csrf.encode()):
            if scope.get(sessions.EXPIRED_KEY):  # the session ended while the page was open: sign in again
                await _to_sign_in(scope, receive, send)
                return
            await _refuse(scope, receive, send, "this form has expired or did not come from the console")
            return
        await self.app(scope, replay, send)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # browsers send Origin with every POST; other clients still need the token
        return True
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def _refuse(scope: Scope, receive: Receive, send: Send, why: str) -> None:
    await PlainTextResponse(f"Refused: {why}. Go back, reload the page and try again.", status_code=403)(
        scope, receive, send
    )


async def _to_sign_in(scope: Scope, receive: Receive, send: Send) -> None:
    url = "/sign-in?reason=idle"
    if Request(scope).headers.get("hx-request") == "true":
        response: Response = Response(status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    await response(scope, receive, send)


async def _read(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replaying(body: bytes, original: Receive) -> Receive:
    """The body read already, then the real channel (which tells of a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
