"""Managers: import a roster CSV, with a preview and per-row errors before anything is saved.

The CSV travels in the forms (the preview shows it in an editable box to fix
a row and check again); the console keeps none of it.
"""

from __future__ import annotations

import csv
import io

import grpc
from grpc import aio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.console import views
from alongside.console.routes.common import person
from alongside.console.rpc import field_of, key

MANAGERS = ("manager", "admin")


async def import_form(request: Request) -> Response:
    person(request, *MANAGERS)
    return views.render(request, "roster_import.html", {"stage": "choose", "csv": "", "errors": [], "problem": ""})


async def _csv(request: Request) -> tuple[bytes, str]:
    form = await request.form()
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
    else:
        data = str(form.get("csv", "")).replace("\r\n", "\n").encode()
    return data, str(form.get("idempotency_key", "")) or key()


def _rows(data: bytes) -> int:
    try:
        return max(0, sum(1 for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) if row) - 1)
    except (UnicodeDecodeError, csv.Error):
        return 0


async def preview(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    data, _ = await _csv(request)
    context = {"stage": "preview", "csv": data.decode("utf-8-sig", errors="replace"), "rows": _rows(data),
               "errors": [], "problem": "", "idempotency_key": key()}
    try:
        context["errors"] = list((await calls.import_roster(data, True, key())).errors)
    except aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        context["problem"] = field_of(exc)[1]
    return views.render(request, "roster_import.html", context, status=200 if not context["problem"] else 400)


async def run_import(request: Request) -> Response:
    _, calls = person(request, *MANAGERS)
    data, idempotency_key = await _csv(request)
    reply = await calls.import_roster(data, False, idempotency_key)
    context = {"stage": "done", "imported": reply.imported, "errors": list(reply.errors), "csv": "", "problem": ""}
    return views.render(request, "roster_import.html", context)


def routes() -> list[Route]:
    return [
        Route("/roster/import", import_form),
        Route("/roster/import/preview", preview, methods=["POST"]),
        Route("/roster/import/run", run_import, methods=["POST"]),
    ]
