"""A local SMTP server that files every message as an .eml file, like the
folder ``ALONGSIDE_SMTP_SINK_DIR`` points the demo at."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from alongside.kit.testing.servers import free_port


class MaildirSink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._numbers = itertools.count(1)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        (self.folder / f"{next(self._numbers):04d}.eml").write_bytes(raw)
        return "250 OK"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
