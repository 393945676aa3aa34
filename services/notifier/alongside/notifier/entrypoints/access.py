"""Object-level access: a peer reaches only their own inbox and preferences.

The role table (``policy``) decides who may call an RPC at all; this decides
whose data a caller may touch.
"""

from __future__ import annotations

from alongside.kit.auth import policy


def require_own(peer_id: str) -> None:
    policy.require_own(peer_id, "notifications and preferences")
