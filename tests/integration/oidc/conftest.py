"""Makes ``alongside.console`` importable before setup.py lists services/console
(the console's own branch adds it); harmless once it does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import alongside

if importlib.util.find_spec("alongside.console") is None:
    alongside.__path__.append(str(Path(__file__).parents[3] / "services" / "console" / "alongside"))
