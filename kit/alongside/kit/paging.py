"""Page tokens: opaque to callers, checked when they come back.

A token names the list it was issued for and a position in it, with a short
checksum. A token from another list, a truncated or edited one, or garbage is
refused with INVALID_ARGUMENT naming ``page_token``, never read as some
position. The checksum is no signature: a caller who forges a token reaches
only a position in a list they may read anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from alongside.kit.errors import InvalidArgument

FIELD = "page_token"
_SEP = "|"


def _sum(scope: str, position: str) -> str:
    return hashlib.blake2s(f"{scope}{_SEP}{position}".encode(), digest_size=6).hexdigest()


def issue(scope: str, position: str) -> str:
    """The token for ``position`` (any text) in the list named ``scope``."""
    raw = _SEP.join((scope, position, _sum(scope, position)))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def position(scope: str, token: str, field: str = FIELD) -> str:
    """The position a token of this list carries; '' for no token (the first page)."""
    if not token:
        return ""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument(field, "is not a token this service issued") from None
    found_scope, sep, rest = raw.partition(_SEP)
    where, sep2, check = rest.rpartition(_SEP)
    if not (sep and sep2) or found_scope != scope or check != _sum(scope, where):
        raise InvalidArgument(field, "is not a token this service issued for this list")
    return where
