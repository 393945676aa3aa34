"""The CLI looks for its config under XDG_CONFIG_HOME/HOME and ./var: never the real user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def own_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("ALONGSIDE_CONFIG", raising=False)
    # Nor a `make run` data folder (./var) of the checkout the tests run in.
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home
