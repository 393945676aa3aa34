"""Where the CLI finds its configuration and the stack it talks to.

In this order, the first that exists wins:

1. ``--config PATH`` or ``ALONGSIDE_CONFIG``: a config file, or a stack's
   data folder (``var/`` of a ``make run``);
2. the user's config file, ``$XDG_CONFIG_HOME/alongside/config.json``
   (``~/.config/alongside/config.json``), which ``alongside login`` writes;
3. ``./var/``, the data folder of a ``make run`` in this folder.

A config file is JSON with any of ``data_dir`` (a stack's data folder),
``matcher``, ``scheduler``, ``notifier`` (``host:port``), ``nats_url`` and
``redis_url``. A data folder holds ``endpoints.json`` (written by ``make run``
while it runs: the stack's id, where each service listens) and
``dev-auth-secret`` (the development token secret).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alongside.cli.errors import CliError, ExitCode

CONFIG_VARIABLE = "ALONGSIDE_CONFIG"
ENDPOINTS_FILE = "endpoints.json"
SECRET_FILE = "dev-auth-secret"
CONFIG_KEYS = ("data_dir", "matcher", "scheduler", "notifier", "nats_url", "redis_url")


@dataclass(frozen=True)
class StackFolder:
    """A ``make run``'s data folder: its secret, and its endpoints while it runs."""

    data_dir: Path
    endpoints: Mapping[str, Any] | None
    secret: str

    @property
    def stack_id(self) -> str:
        return str((self.endpoints or {}).get("stack_id", ""))

    @property
    def running(self) -> bool:
        return self.endpoints is not None


@dataclass(frozen=True)
class Found:
    """What discovery found: settings from a config file, a stack folder, and where it looked."""

    source: str = ""
    settings: Mapping[str, str] = field(default_factory=dict)
    stack: StackFolder | None = None
    looked: tuple[str, ...] = ()


def user_config_file(env: Mapping[str, str]) -> Path | None:
    """``$XDG_CONFIG_HOME/alongside/config.json``, else under ``$HOME/.config``."""
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "alongside" / "config.json"
    if env.get("HOME"):
        return Path(env["HOME"]) / ".config" / "alongside" / "config.json"
    return None


def read_stack(data_dir: Path) -> StackFolder:
    data_dir = data_dir.expanduser().resolve()
    endpoints: Mapping[str, Any] | None = None
    try:
        loaded = json.loads((data_dir / ENDPOINTS_FILE).read_text())
        endpoints = loaded if isinstance(loaded, dict) else None
    except (OSError, ValueError):
        endpoints = None
    try:
        secret = (data_dir / SECRET_FILE).read_text().strip()
    except OSError:
        secret = ""
    return StackFolder(data_dir, endpoints, secret)


def is_stack_folder(path: Path) -> bool:
    return (path / ENDPOINTS_FILE).is_file() or (path / SECRET_FILE).is_file()


def read_config_file(path: Path) -> dict[str, str]:
    try:
        loaded = json.loads(path.read_text())
    except OSError as exc:
        raise CliError(f"cannot read the config file {path}: {exc.strerror}", ExitCode.BAD_INPUT) from None
    except ValueError:
        message = f"the config file {path} is not valid JSON; fix it or run `alongside login`"
        raise CliError(message, ExitCode.BAD_INPUT) from None
    if not isinstance(loaded, dict):
        raise CliError(f"the config file {path} must hold a JSON object", ExitCode.BAD_INPUT)
    unknown = sorted(set(loaded) - set(CONFIG_KEYS))
    if unknown:
        raise CliError(
            f"the config file {path} has unknown keys {', '.join(unknown)}; allowed: {', '.join(CONFIG_KEYS)}",
            ExitCode.BAD_INPUT,
        )
    return {key: str(value) for key, value in loaded.items() if value is not None}


def _from_path(path: Path, source: str, looked: list[str]) -> Found:
    if path.is_dir():
        return Found(source, {}, read_stack(path), tuple(looked))
    settings = read_config_file(path)
    stack = None
    if settings.get("data_dir"):
        data_dir = Path(settings["data_dir"]).expanduser()
        if not data_dir.is_absolute():
            data_dir = path.parent / data_dir
        stack = read_stack(data_dir)
    return Found(source, settings, stack, tuple(looked))


def discover(env: Mapping[str, str], explicit: str | None = None, cwd: Path | None = None) -> Found:
    """The first configuration found, in the order the module describes."""
    looked: list[str] = []
    given = explicit or env.get(CONFIG_VARIABLE, "")
    if given:
        where = "--config" if explicit else CONFIG_VARIABLE
        path = Path(given).expanduser()
        if not path.exists():
            raise CliError(
                f"{where} names {path}, which does not exist: give a config file or a `make run` data folder",
                ExitCode.BAD_INPUT,
            )
        return _from_path(path, f"{where} {path.resolve()}", [f"{where} {path}"])
    looked.append(f"--config or {CONFIG_VARIABLE} (not set)")
    user = user_config_file(env)
    if user is not None:
        if user.is_file():
            return _from_path(user, str(user), [*looked, str(user)])
        looked.append(f"{user} (not there)")
    local = (cwd or Path.cwd()) / "var"
    if is_stack_folder(local):
        return Found(str(local.resolve()), {}, read_stack(local), tuple([*looked, str(local)]))
    looked.append(f"{local} (no `make run` data folder)")
    return Found("", {}, None, tuple(looked))
