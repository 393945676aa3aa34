"""HMAC-SHA256 webhook signatures.

Header: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of b"<t>." + body>``.
Signing the timestamp with the body lets a receiver refuse replays outside a
tolerance window. A receiver rotating secrets may see several ``v1=``
entries; any one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

SCHEME = "v1"
DEFAULT_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """A signature header taken apart. Unknown schemes are ignored."""

    timestamp: int
    signatures: tuple[str, ...]


def compute(secret: bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``b"<timestamp>." + body``."""
    if not secret:
        raise ValueError("the signing secret must not be empty")
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},{SCHEME}={compute(secret, timestamp, body)}"


def parse(header: str) -> ParsedSignature | None:
    """Split a header into its timestamp and v1 signatures, or None if malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            return None
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return None
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        return None
    return ParsedSignature(timestamp, tuple(signatures))


def verify(
    secret: bytes,
    header: str,
    body: bytes,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """True if the header is well formed, its timestamp is within ``tolerance``
    of ``now`` (either side, for clock skew) and a v1 signature matches."""
    parsed = parse(header)
    if parsed is None or not is_fresh(parsed.timestamp, now, tolerance):
        return False
    expected = compute(secret, parsed.timestamp, body).encode("ascii")
    # Compare every candidate, constant-time each, so timing reveals nothing.
    matches = [hmac.compare_digest(expected, s.encode("utf-8")) for s in parsed.signatures]
    return any(matches)


def is_fresh(timestamp: int, now: datetime, tolerance: timedelta) -> bool:
    """Whether a signed timestamp lies within ``tolerance`` of ``now``."""
    if now.utcoffset() is None:
        # A naive datetime would be read in the host's zone: wrong by hours.
        raise ValueError("now must be timezone-aware")
    return abs(now.timestamp() - timestamp) <= tolerance.total_seconds()
