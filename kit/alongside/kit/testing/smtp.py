"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

Used by tests, by the e2e suite and by ``make run`` as the local mail sink:
every message is kept in memory and, with a folder, also filed as an .eml.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from alongside.kit.testing.servers import free_port


@dataclass
class Mail:
    to: list[str]
    raw: bytes
    message: EmailMessage
    at: float

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())


class SmtpSink:
    def __init__(self, folder: Path | None = None, port: int | None = None) -> None:
        self.mails: list[Mail] = []
        self.folder = folder
        self.port = port or free_port()
        self._numbers = itertools.count(1)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(list(envelope.rcpt_tos), raw, message, time.monotonic()))
        if self.folder is not None:
            (self.folder / f"{int(time.time())}-{next(self._numbers):05d}.eml").write_bytes(raw)
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.to]

    def start(self) -> None:
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
