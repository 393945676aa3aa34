"""Identifiers. Random, opaque and free of any meaning about people."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str = "") -> str:
    """A sortable id: milliseconds since the epoch, then 64 random bits."""
    stamp = format(time.time_ns() // 1_000_000, "012x")
    return f"{prefix}{stamp}{secrets.token_hex(8)}"
