"""Tokens for tests: one HS256 secret shared by test services and clients."""

from __future__ import annotations

from typing import Any

from grpc import aio

from alongside.kit.auth.client import bearer_channel
from alongside.kit.auth.tokens import Minter

TEST_SECRET = "alongside-test-secret-only-for-throwaway-servers"
TEST_AUTH: dict[str, Any] = {"auth_hs256_secret": TEST_SECRET}
AUTH_ENV: dict[str, str] = {"AUTH_HS256_SECRET": TEST_SECRET}
MINTER = Minter(TEST_SECRET, "HS256", "alongside", "alongside")


def token(role: str = "admin", subject: str = "test-admin") -> str:
    return MINTER.mint(subject, role)


def channel(target: str, role: str = "admin", subject: str = "test-admin", **kwargs: Any) -> aio.Channel:
    """A channel whose calls carry a token for ``role`` (admin by default)."""
    return bearer_channel(target, token(role, subject), **kwargs)
