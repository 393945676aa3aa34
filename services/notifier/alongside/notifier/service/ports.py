"""What the delivery worker needs from an outside channel."""

from __future__ import annotations

from typing import Protocol

from alongside.notifier.service.model import Outgoing


class DeliveryFailed(Exception):
    """A send did not succeed. ``reason`` is a code (``smtp_unavailable``,
    ``http_503``), never data; ``retryable`` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Sender(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Deliver ``message`` or raise ``DeliveryFailed``."""
        ...

    async def close(self) -> None: ...
