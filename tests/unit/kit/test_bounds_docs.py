"""docs/<service>.md holds every line of its service's bounds table."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from alongside.kit.bounds import Bounds, table_lines

ROOT = Path(__file__).resolve().parents[3]


def _services() -> dict[str, tuple[Bounds, list[Any]]]:
    spec = importlib.util.spec_from_file_location("bounds_table", ROOT / "scripts" / "bounds_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SERVICES  # type: ignore[no-any-return]


@pytest.mark.parametrize("service", ["matcher", "scheduler", "notifier"])
def test_the_doc_lists_every_bound(service: str) -> None:
    bounds, services = _services()[service]
    doc = (ROOT / "docs" / f"{service}.md").read_text().splitlines()
    missing = [line for line in table_lines(bounds, services) if line not in doc]
    assert not missing, f"docs/{service}.md lacks (run scripts/bounds_table.py {service}): {missing}"
