"""Real local endpoints the notifier delivers to: the kit's SMTP sink
(aiosmtpd) and an HTTP webhook receiver that checks the signature. Both run
on loopback ports of their own and record what arrived."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alongside.notifier.domain.signing import verify
from alongside.notifier.domain.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER


@dataclass
class Hook:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    at: float


@dataclass
class WebhookReceiver:
    """An HTTP server that verifies each POST's signature and answers with
    ``status`` (500 for paths ending in ``/fail``); with ``hang_s`` it holds
    the answer (a gateway timing out)."""

    secret: bytes
    status: int = 200
    hang_s: float = 0.0
    received: list[Hook] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                header = self.headers.get(SIGNATURE_HEADER, "")
                ok = verify(receiver.secret, header, body, datetime.now(UTC))
                headers = {k: v for k, v in self.headers.items()}
                receiver.received.append(Hook(self.path, headers, body, ok, time.monotonic()))
                if receiver.hang_s:
                    receiver._release.wait(receiver.hang_s)
                status = 500 if self.path.endswith("/fail") else receiver.status
                self.send_response(status if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def idempotency_keys(self) -> list[str]:
        return [h.headers.get(IDEMPOTENCY_HEADER, "") for h in self.received]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
