"""Webhook signatures: round trip, tampering, staleness, header parsing, request building."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from alongside.notifier.domain.signing import parse, sign, verify
from alongside.notifier.domain.webhook import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    webhook_body,
    webhook_headers,
)

SECRET = b"whsec-test-0123456789"
NOW = datetime(2024, 12, 3, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())
BODY = b'{"event_id":"e-1","kind":"session_booked","text":"A session has been booked."}'


def test_header_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == f"t={T},v1={expected}"


def test_round_trip_verifies() -> None:
    assert verify(SECRET, sign(SECRET, T, BODY), BODY, NOW)


def test_tampered_body_fails() -> None:
    assert not verify(SECRET, sign(SECRET, T, BODY), BODY.replace(b"booked", b"bookeD"), NOW)


def test_wrong_secret_fails() -> None:
    assert not verify(b"another-secret", sign(SECRET, T, BODY), BODY, NOW)


def test_tampered_timestamp_fails() -> None:
    header = sign(SECRET, T, BODY).replace(f"t={T}", f"t={T + 1}")
    assert not verify(SECRET, header, BODY, NOW)


def test_stale_and_future_timestamps_fail_outside_tolerance() -> None:
    header = sign(SECRET, T, BODY)
    tolerance = timedelta(minutes=5)
    assert verify(SECRET, header, BODY, NOW + tolerance, tolerance)
    assert not verify(SECRET, header, BODY, NOW + tolerance + timedelta(seconds=1), tolerance)
    assert not verify(SECRET, header, BODY, NOW - tolerance - timedelta(seconds=1), tolerance)


def test_any_one_of_several_v1_signatures_may_match() -> None:
    good = sign(SECRET, T, BODY).split(",")[1]
    header = f"t={T},v1={'0' * 64},{good},v0=legacy"
    assert verify(SECRET, header, BODY, NOW)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"v1={'a' * 64}",
        f"t={T}",
        f"t=abc,v1={'a' * 64}",
        f"t={T},t={T},v1=x",
        f"t=-{T},v1=x",
        "t=١٢,v1=x",
    ],
)
def test_malformed_headers_fail(header: str) -> None:
    assert parse(header) is None
    assert not verify(SECRET, header, BODY, NOW)


def test_empty_secret_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError):
        sign(b"", T, BODY)
    with pytest.raises(ValueError):
        verify(SECRET, sign(SECRET, T, BODY), BODY, datetime(2024, 12, 3, 9, 0))


def test_webhook_request_is_canonical_signed_and_idempotent() -> None:
    payload = {"text": "Se ha reservado una sesión.", "kind": "session_booked", "event_id": "e-9"}
    body = webhook_body(payload)
    assert body == webhook_body(dict(reversed(list(payload.items()))))  # key order does not matter
    assert json.loads(body) == payload
    assert "sesión".encode() in body
    headers = webhook_headers(SECRET, NOW, body, "e-9")
    assert headers[IDEMPOTENCY_HEADER] == "e-9"
    assert headers["Content-Type"].startswith("application/json")
    assert verify(SECRET, headers[SIGNATURE_HEADER], body, NOW)
