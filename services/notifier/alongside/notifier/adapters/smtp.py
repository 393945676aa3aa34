"""Email over SMTP (aiosmtplib), through a small pool of kept-open connections.

Each message has a deterministic Message-ID from the event and channel, so a
mail system can recognise a repeat. Failures become reason codes; SMTP 4xx
replies and network trouble are retried, 5xx replies are not (RFC 5321).
"""

from __future__ import annotations

import asyncio
import contextlib
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
from opentelemetry.trace import SpanKind

from alongside.kit import tracing
from alongside.notifier.domain.retry import smtp_code_is_retryable
from alongside.notifier.service.model import Clock, Outgoing
from alongside.notifier.service.ports import DeliveryFailed
from alongside.notifier.settings import NotifierSettings

_TIMEOUTS = (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPConnectTimeoutError, aiosmtplib.SMTPReadTimeoutError)
# What a connection that sat idle in the pool may raise when the server dropped it.
_STALE = (aiosmtplib.SMTPServerDisconnected, ConnectionError)


class EmailSender:
    def __init__(self, settings: NotifierSettings, clock: Clock) -> None:
        self._s, self._clock = settings, clock
        self._domain = settings.smtp_from.rpartition("@")[2]
        self._pool: asyncio.Queue[aiosmtplib.SMTP | None] = asyncio.Queue()
        for _ in range(settings.smtp_connections):
            self._pool.put_nowait(None)

    def compose(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._s.smtp_from
        email["To"] = message.address
        email["Subject"] = message.rendered.subject
        email["Date"] = format_datetime(self._clock())
        email["Message-ID"] = f"<{message.key}@{self._domain}>"
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.rendered.text_body)
        email["Content-Language"] = message.language  # after set_content, which drops Content-* headers
        return email

    async def send(self, message: Outgoing) -> None:
        with tracing.span("smtp send", SpanKind.CLIENT, {"alongside.channel": "email"}):
            await self._send(message)

    async def _send(self, message: Outgoing) -> None:
        email = self.compose(message)
        client = await self._pool.get()
        try:
            if client is not None and client.is_connected:
                with contextlib.suppress(*_STALE):  # dropped while idle: one try on a fresh connection
                    await client.send_message(email, sender=self._s.smtp_from, recipients=[message.address])
                    return
                await _close(client)
            client = None
            client = await self._connect()
            await client.send_message(email, sender=self._s.smtp_from, recipients=[message.address])
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reason code
            await _close(client)
            client = None
            raise failure(exc) from None
        finally:
            self._pool.put_nowait(client)

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._s
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
        )
        await client.connect()
        return client

    async def close(self) -> None:
        while not self._pool.empty():
            await _close(self._pool.get_nowait())


def failure(exc: BaseException) -> DeliveryFailed:
    """The reason code for an SMTP failure, and whether a retry may help."""
    if isinstance(exc, (*_TIMEOUTS, TimeoutError)):
        return DeliveryFailed("smtp_timeout")
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
        return DeliveryFailed(f"smtp_{code}", retryable=smtp_code_is_retryable(code))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return DeliveryFailed(f"smtp_{exc.code}", retryable=smtp_code_is_retryable(exc.code))
    return DeliveryFailed("smtp_unavailable")


async def _close(client: aiosmtplib.SMTP | None) -> None:
    if client is not None and client.is_connected:
        with contextlib.suppress(Exception):
            await client.quit()
