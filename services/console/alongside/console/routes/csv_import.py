"""A CSV import with a dry run first, shared by the roster and the group directory.

The file is checked with the service's own dry run, which lists every bad row
(line, column, reason) before anything is saved; the CSV then travels in the
page's form (an editable box to fix a row and check again), so the console
keeps none of it. Only managers and admins import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc import aio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alongside.console import views
from alongside.console.routes.common import person
from alongside.console.rpc import Calls, field_of, key

MANAGERS = ("manager", "admin")
# The service's import call: (calls, csv, dry_run, idempotency key) -> a reply with ``imported`` and ``errors``.
Run = Callable[[Calls, bytes, bool, str], Awaitable[Any]]


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


@dataclass(frozen=True)
class CsvImport:
    """The three pages of one import at ``path``: choose a file, the preview, the import."""

    path: str
    template: str
    run: Run

    def _render(self, request: Request, context: dict[str, Any], status: int = 200) -> Response:
        return views.render(request, self.template, {"import_path": self.path, **context}, status=status)

    async def choose(self, request: Request) -> Response:
        person(request, *MANAGERS)
        return self._render(request, {"stage": "choose", "csv": "", "errors": [], "problem": ""})

    async def preview(self, request: Request) -> Response:
        _, calls = person(request, *MANAGERS)
        data, _ = await _csv(request)
        context = {"stage": "preview", "csv": data.decode("utf-8-sig", errors="replace"), "rows": _rows(data),
                   "errors": [], "problem": "", "idempotency_key": key()}
        try:
            context["errors"] = list((await self.run(calls, data, True, key())).errors)
        except aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            context["problem"] = field_of(exc)[1]
        return self._render(request, context, status=200 if not context["problem"] else 400)

    async def run_import(self, request: Request) -> Response:
        _, calls = person(request, *MANAGERS)
        data, idempotency_key = await _csv(request)
        reply = await self.run(calls, data, False, idempotency_key)
        context = {"stage": "done", "imported": reply.imported, "errors": list(reply.errors), "csv": "",
                   "problem": ""}
        return self._render(request, context)

    def routes(self) -> list[Route]:
        return [
            Route(self.path, self.choose),
            Route(f"{self.path}/preview", self.preview, methods=["POST"]),
            Route(f"{self.path}/run", self.run_import, methods=["POST"]),
        ]
