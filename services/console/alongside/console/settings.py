"""The console's typed settings, read from the environment once at start-up.

Field ``x`` is read from ``X``. A bad value raises ``ConfigError`` naming the
variable, so the console fails at start-up rather than on first use.

Development sign-in mints tokens with the development HS256 secret. It is
impossible to enable by accident in production: it needs DEV_SIGN_IN=true,
the secret, AND a loopback CONSOLE_ADDR; any other combination refuses to
start.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from typing import Any, Self

from alongside.kit.settings import LOG_LEVELS, ConfigError, read_fields

LOOPBACK_NAMES = ("localhost",)


@dataclasses.dataclass(frozen=True)
class ConsoleSettings:
    console_addr: str = "127.0.0.1:8080"
    matcher_addr: str = "127.0.0.1:50051"
    scheduler_addr: str = "127.0.0.1:50052"
    notifier_addr: str = "127.0.0.1:50053"
    # Automatic sign-out after this long without a request (HIPAA 164.312(a)(2)(iii)).
    idle_timeout_seconds: float = 900.0
    # Deadline of every unary call to a service.
    rpc_timeout_seconds: float = 10.0
    log_level: str = "info"
    # Development sign-in: pick a role and a subject (see the module docstring).
    dev_sign_in: bool = False
    auth_hs256_secret: str = ""
    auth_issuer: str = "alongside"
    auth_audience: str = "alongside"
    # How long a development token lives; the session never outlives its token.
    dev_token_ttl_seconds: int = 8 * 3600
    # OpenID Connect (the ``alongside.console.oidc`` module): sign-in is offered when the issuer is set.
    oidc_issuer: str = ""
    oidc_provider_name: str = ""
    # Most sessions held at once; the least recently used goes first beyond it.
    max_sessions: int = 10_000
    # TLS to the services (the kit's client credentials): SERVICES_TLS with the system's roots,
    # or TLS_CA_FILE; TLS_CLIENT_CERT_FILE and TLS_CLIENT_KEY_FILE for mTLS. Plaintext otherwise.
    services_tls: bool = False
    tls_ca_file: str = ""
    tls_client_cert_file: str = ""
    tls_client_key_file: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        settings = cls(**read_fields(cls, os.environ if env is None else env, overrides))
        settings.validate()
        return settings

    @property
    def host(self) -> str:
        return self.console_addr.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.console_addr.rpartition(":")[2])

    @property
    def on_loopback(self) -> bool:
        if self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def tls(self) -> bool:
        return self.services_tls or bool(self.tls_ca_file or self.tls_client_cert_file or self.tls_client_key_file)

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure everywhere but development on loopback (plain http there)."""
        return not (self.dev_sign_in and self.on_loopback)

    def validate(self) -> None:
        for name in ("console_addr", "matcher_addr", "scheduler_addr", "notifier_addr"):
            host, _, port = getattr(self, name).rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(f"{name.upper()} must look like host:port")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if self.idle_timeout_seconds <= 0:
            raise ConfigError("IDLE_TIMEOUT_SECONDS must be above 0")
        if self.rpc_timeout_seconds <= 0:
            raise ConfigError("RPC_TIMEOUT_SECONDS must be above 0")
        if self.max_sessions < 1:
            raise ConfigError("MAX_SESSIONS must be at least 1")
        if self.dev_sign_in:
            self._check_dev_sign_in()

    def _check_dev_sign_in(self) -> None:
        if not self.auth_hs256_secret:
            raise ConfigError("DEV_SIGN_IN needs AUTH_HS256_SECRET, the development secret")
        if len(self.auth_hs256_secret) < 32:
            raise ConfigError("AUTH_HS256_SECRET must be at least 32 characters")
        if not self.on_loopback:
            raise ConfigError("DEV_SIGN_IN is for development only: CONSOLE_ADDR must be a loopback address")
