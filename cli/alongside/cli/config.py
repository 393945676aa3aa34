"""Where the CLI finds the services, read once per invocation.

Each address comes from, first that is set: ``ALONGSIDE_MATCHER``,
``ALONGSIDE_SCHEDULER``, ``ALONGSIDE_NOTIFIER`` (``host:port``); the config
file found (``alongside.cli.discovery``); the ``endpoints.json`` of the stack
it names (``make run`` writes the ports it chose); the ports ``make run``
prefers. ``NATS_URL`` and ``REDIS_URL`` the same way; they are only read by
``status`` and the operators' ``streams`` and ``valkey`` commands, as are the
brokers' TLS files, from the services' variables only (``NATS_TLS_CA_FILE``,
``REDIS_TLS_CA_FILE``, ...: ``alongside.kit.broker_tls``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from alongside.cli.credentials import Credentials, credentials_from
from alongside.cli.discovery import ENDPOINTS_FILE, Found, discover
from alongside.cli.errors import CliError, ExitCode
from alongside.kit.broker_tls import NATS_PREFIX, REDIS_PREFIX, BrokerTls

DEFAULT_ADDRESSES = {"matcher": "127.0.0.1:50051", "scheduler": "127.0.0.1:50052", "notifier": "127.0.0.1:50053"}
DEFAULT_NATS_URL = "nats://127.0.0.1:14222"
DEFAULT_REDIS_URL = "redis://127.0.0.1:16379/0"
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Config:
    addresses: Mapping[str, str]
    nats_url: str = DEFAULT_NATS_URL
    redis_url: str = DEFAULT_REDIS_URL
    nats_tls: BrokerTls = field(default_factory=lambda: BrokerTls(NATS_PREFIX))
    redis_tls: BrokerTls = field(default_factory=lambda: BrokerTls(REDIS_PREFIX))
    timeout_s: float = DEFAULT_TIMEOUT_S
    json: bool = False
    token: str = ""
    credentials: Credentials = field(default_factory=Credentials)
    found: Found = field(default_factory=Found)
    # Where each service's address came from: a variable, the config file, endpoints.json, or the default.
    address_sources: Mapping[str, str] = field(default_factory=dict)

    def stack_check(self, service: str) -> str:
        """The stack id the service must answer to before it gets a token ('' for none): always
        with a token made from a stack's secret; with any token, when the address is the running
        stack's (from its endpoints.json, or the default), not one given explicitly."""
        if self.credentials.stack_id:
            return self.credentials.stack_id
        stack = self.found.stack
        if stack is None or not stack.running or not stack.stack_id:
            return ""
        where = self.address_sources.get(service, "default")
        return stack.stack_id if where == "default" or where.endswith(ENDPOINTS_FILE) else ""

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        timeout_s: float,
        json: bool,
        config_path: str | None = None,
    ) -> Config:
        source = os.environ if env is None else env
        if not 0 < timeout_s <= 3600:
            raise CliError("--timeout must be between 0 and 3600 seconds", ExitCode.BAD_INPUT)
        found = discover(source, config_path)
        endpoints = found.stack.endpoints if found.stack is not None and found.stack.endpoints else {}

        def pick(variable: str, key: str, default: str) -> tuple[str, str]:
            for where, value in (
                (variable, source.get(variable)),
                (f"{key} in {found.source}", found.settings.get(key)),
                (f"{key} in {found.stack.data_dir / 'endpoints.json'}" if found.stack else "", endpoints.get(key)),
            ):
                if value:
                    return where, str(value)
            return "default", default

        addresses, sources = {}, {}
        for service, default in DEFAULT_ADDRESSES.items():
            where, value = pick(f"ALONGSIDE_{service.upper()}", service, default)
            addresses[service] = check_address(where, value)
            sources[service] = where
        credentials = credentials_from(source, found)
        return cls(
            addresses=addresses,
            nats_url=pick("NATS_URL", "nats_url", DEFAULT_NATS_URL)[1],
            redis_url=pick("REDIS_URL", "redis_url", DEFAULT_REDIS_URL)[1],
            nats_tls=BrokerTls.from_env(source, NATS_PREFIX),
            redis_tls=BrokerTls.from_env(source, REDIS_PREFIX),
            timeout_s=timeout_s,
            json=json,
            token=credentials.token,
            credentials=credentials,
            found=found,
            address_sources=sources,
        )


def check_address(variable: str, value: str) -> str:
    """``host:port`` with a numeric port; the message names where it came from."""
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(
            f"{variable} must look like host:port (for example 127.0.0.1:50051); fix or unset it",
            ExitCode.BAD_INPUT,
        )
    return value.strip()
