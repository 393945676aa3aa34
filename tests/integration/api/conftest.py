"""The three services in one namespace (the access tests' fixture)."""

from __future__ import annotations

from ..auth.conftest import ports  # noqa: F401  (a fixture the tests use)
