"""require_own: a peer's token reaches only that peer's data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from alongside.kit.auth.policy import Authorizer, Policy, reset
from alongside.kit.auth.tokens import Key, Minter, Verifier
from alongside.kit.errors import PermissionDenied
from alongside.notifier.entrypoints.access import require_own

SECRET = "development-secret-of-at-least-32-bytes!"
METHOD = "/alongside.notifier.v1.NotifierService/ListNotifications"


@contextmanager
def calling_as(subject: str, role: str) -> Iterator[None]:
    token = Minter(SECRET, "HS256", "alongside", "alongside").mint(subject, role)
    authorizer = Authorizer(
        Verifier([Key("HS256", SECRET)], "alongside", "alongside"),
        [Policy({METHOD: frozenset({"peer", "admin"})})],
    )
    bound = authorizer.authorize(METHOD, [("authorization", f"Bearer {token}")])
    try:
        yield
    finally:
        reset(bound)


def test_a_peer_reaches_their_own_inbox_only() -> None:
    with calling_as("p-1", "peer"):
        require_own("p-1")
        with pytest.raises(PermissionDenied):
            require_own("p-2")


def test_an_admin_and_an_unauthenticated_setup_are_not_limited_to_one_peer() -> None:
    with calling_as("ops-1", "admin"):
        require_own("p-2")
    require_own("p-2")  # no identity bound: authentication is not configured
