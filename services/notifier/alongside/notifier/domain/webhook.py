"""The bytes and headers of a webhook POST. Pure: the adapter sends them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from alongside.notifier.domain.signing import sign

SIGNATURE_HEADER = "Alongside-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def webhook_body(payload: Mapping[str, str]) -> bytes:
    """Canonical JSON (sorted keys, no spaces, UTF-8) so the signed bytes
    are the sent bytes, byte for byte."""
    return json.dumps(dict(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def webhook_headers(secret: bytes, now: datetime, body: bytes, idempotency_key: str) -> dict[str, str]:
    """Content type, the signature over ``now`` and ``body``, and the event id
    as the idempotency key so the receiver can drop our retries."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(secret, int(now.timestamp()), body),
        IDEMPOTENCY_HEADER: idempotency_key,
    }
