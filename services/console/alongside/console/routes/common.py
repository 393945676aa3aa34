"""What every route needs: the signed-in person, their calls, and the failures
that become pages (sign in again, 403, 404, service unavailable)."""

from __future__ import annotations

import grpc
import structlog
from grpc import aio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from alongside.console import sessions, views
from alongside.console.rpc import Calls, field_of
from alongside.console.sessions import EXPIRED_KEY, Session

log = structlog.get_logger("alongside.console")
STAFF = ("intake", "manager", "admin")


class SignInRequired(Exception):
    pass


class Forbidden(Exception):
    pass


def person(request: Request, *roles: str) -> tuple[Session, Calls]:
    """The signed-in person (with one of ``roles`` when given) and their calls."""
    session = sessions.current(request)
    if not session.signed_in:
        raise SignInRequired
    if roles and session.role not in roles:
        raise Forbidden
    return session, request.app.state.backends.as_person(session.token)


def redirect(request: Request, url: str) -> Response:
    """A 303 for a page, HX-Redirect for an htmx request (htmx would otherwise swap the target page in)."""
    if views.is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def sign_in_required(request: Request, exc: Exception) -> Response:
    idle = request.scope.get(EXPIRED_KEY, False)
    return redirect(request, "/sign-in?reason=idle" if idle else "/sign-in")


async def forbidden(request: Request, exc: Exception) -> Response:
    return error_page(request, "forbidden", 403)


STATUS_PAGES = {
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden"),
    grpc.StatusCode.NOT_FOUND: (404, "not_found"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "refused"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "refused"),
    grpc.StatusCode.ABORTED: (409, "conflict"),
}


async def rpc_failed(request: Request, exc: Exception) -> Response:
    """A service said no (or could not be reached): a page that says what to do, never the data."""
    assert isinstance(exc, aio.AioRpcError)
    code = exc.code()
    log.info("rpc refused", code=code.name, path=request.url.path)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        session = sessions.current(request)
        request.app.state.store.drop(session)
        sessions.replace(request, request.app.state.store.new(session.language))
        return redirect(request, "/sign-in?reason=token")
    status, kind = STATUS_PAGES.get(code, (503, "unavailable"))
    message = field_of(exc)[1] if kind in ("invalid", "refused") else ""
    return error_page(request, kind, status, message)


def error_page(request: Request, kind: str, status: int, message: str = "") -> Response:
    """The error page; for an htmx request, its content in place of the page's main
    (htmx swaps nothing on an error status, so the person would see nothing happen)."""
    context = {"kind": kind, "message": message}
    if views.is_htmx(request):
        headers = {"HX-Retarget": "#main", "HX-Reswap": "innerHTML"}
        return views.render(request, "error.html", context, fragment="content", headers=headers)
    return views.render(request, "error.html", context, status=status)
