"""Where the CLI finds the services, read from the environment once.

``ALONGSIDE_MATCHER``, ``ALONGSIDE_SCHEDULER`` and ``ALONGSIDE_NOTIFIER`` are
``host:port`` (defaults: the ports ``make run`` uses); ``NATS_URL`` and
``REDIS_URL`` are only read by ``status`` and the operators' ``streams
provision`` and ``valkey provision``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from alongside.cli.credentials import token_from
from alongside.cli.errors import CliError, ExitCode

DEFAULT_ADDRESSES = {"matcher": "127.0.0.1:50051", "scheduler": "127.0.0.1:50052", "notifier": "127.0.0.1:50053"}
DEFAULT_NATS_URL = "nats://127.0.0.1:14222"
DEFAULT_REDIS_URL = "redis://127.0.0.1:16379/0"
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Config:
    addresses: Mapping[str, str]
    nats_url: str = DEFAULT_NATS_URL
    redis_url: str = DEFAULT_REDIS_URL
    timeout_s: float = DEFAULT_TIMEOUT_S
    json: bool = False
    token: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, timeout_s: float, json: bool) -> Config:
        source = os.environ if env is None else env
        addresses = {}
        for service, default in DEFAULT_ADDRESSES.items():
            variable = f"ALONGSIDE_{service.upper()}"
            addresses[service] = check_address(variable, source.get(variable, default))
        if not 0 < timeout_s <= 3600:
            raise CliError("--timeout must be between 0 and 3600 seconds", ExitCode.BAD_INPUT)
        return cls(
            addresses=addresses,
            nats_url=source.get("NATS_URL", DEFAULT_NATS_URL),
            redis_url=source.get("REDIS_URL", DEFAULT_REDIS_URL),
            timeout_s=timeout_s,
            json=json,
            token=token_from(source),
        )


def check_address(variable: str, value: str) -> str:
    """``host:port`` with a numeric port; the message names the variable."""
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(
            f"{variable} must look like host:port (for example 127.0.0.1:50051); fix or unset it",
            ExitCode.BAD_INPUT,
        )
    return value.strip()
