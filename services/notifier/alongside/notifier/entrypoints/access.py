"""Object-level access: a peer reaches only their own inbox and preferences.

The role table (``policy``) decides who may call an RPC at all; this decides
whose data a caller may touch. Without a bound identity (authentication not
configured) there is nothing to check.
"""

from __future__ import annotations

from alongside.kit.auth.policy import optional_identity
from alongside.kit.errors import PermissionDenied

PEER_ROLE = "peer"


def require_own(peer_id: str) -> None:
    identity = optional_identity()
    if identity is not None and identity.role == PEER_ROLE and identity.subject != peer_id:
        raise PermissionDenied("a peer may reach only their own notifications and preferences")
