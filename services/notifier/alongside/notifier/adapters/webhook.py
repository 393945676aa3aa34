"""Signed webhooks (an SMS gateway, a chat tool) over httpx.

The body is canonical JSON; the signature header covers a timestamp and the
body; the source event id goes along as ``Idempotency-Key`` so the receiver
can drop our retries. Redirects are not followed: the peer chose this URL.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
from opentelemetry.trace import SpanKind

from alongside.kit import tracing
from alongside.notifier.domain.retry import http_status_is_retryable
from alongside.notifier.domain.webhook import webhook_body, webhook_headers
from alongside.notifier.service.model import Outgoing
from alongside.notifier.service.ports import DeliveryFailed


class WebhookSender:
    def __init__(self, secret: str, timeout_s: float) -> None:
        # httpx logs each request's full URL at INFO; a peer's webhook URL is contact data.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self._secret = secret.encode()
        # trust_env=False: no proxy or .netrc from the environment decides where peers' data goes.
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False)

    async def send(self, message: Outgoing) -> None:
        with tracing.span("webhook send", SpanKind.CLIENT, {"alongside.channel": "webhook"}):
            await self._send(message)

    async def _send(self, message: Outgoing) -> None:
        body = webhook_body(message.rendered.webhook_payload)
        # Signed with the real time: the receiver checks freshness against its own clock.
        headers = webhook_headers(self._secret, datetime.now(UTC), body, message.event_id)
        try:
            response = await self._client.post(message.address, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed("webhook_timeout") from None
        except httpx.HTTPError:
            raise DeliveryFailed("webhook_unavailable") from None
        status = response.status_code
        if not 200 <= status <= 299:
            raise DeliveryFailed(f"http_{status}", retryable=http_status_is_retryable(status))

    async def close(self) -> None:
        await self._client.aclose()
