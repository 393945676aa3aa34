"""docs/operations.md's tested blocks (``<!-- tested: NAME -->`` before a
``sh`` fence), run word for word in bash."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

RUNBOOK = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
BLOCK = re.compile(r"<!-- tested: (?P<name>[\w-]+) -->\n```sh\n(?P<body>.*?)```", re.S)
SHIM = Path(__file__).with_name("valkey_cli.py")


def runbook_block(name: str) -> str:
    blocks = {m["name"]: m["body"] for m in BLOCK.finditer(RUNBOOK.read_text())}
    assert name in blocks, f"docs/operations.md has no block marked <!-- tested: {name} -->"
    return blocks[name]


def shell_env(folder: Path) -> dict[str, str]:
    """An environment with ``valkey-cli`` (the stand-in, see valkey_cli.py), this
    checkout's ``alongside`` and no developer's config or stack to find."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    cli = bin_dir / "valkey-cli"
    cli.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{SHIM}" "$@"\n')
    cli.chmod(0o755)
    home = folder / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }


def run(name: str, env: dict[str, str], cwd: Path) -> str:
    """Run block ``name`` with ``bash -euo pipefail``; its stdout, or fail with its output."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", runbook_block(name)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"runbook block {name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout
