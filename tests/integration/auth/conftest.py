"""Fixtures shared by the access tests."""

from __future__ import annotations

from ..scheduler.conftest import scheduler  # noqa: F401  (a fixture the tests use)
