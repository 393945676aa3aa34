"""Typed settings, read from the environment once at start-up.

Each service subclasses ``Settings`` to add its own fields. A missing or bad
value raises ``ConfigError`` with a message that names the variable, so the
process fails at start-up rather than on first use.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from alongside.kit.broker_tls import NATS_PREFIX, REDIS_PREFIX, BrokerTls, TlsConfigError, check_urls
from alongside.kit.durable import SENTINEL_SCHEME, Durability, is_sentinel_url, parse_sentinel_url


class ConfigError(Exception):
    """A configuration value is missing or malformed."""


LOG_LEVELS = ("debug", "info", "warning", "error")


def read_fields(
    cls: type[Any], source: Mapping[str, str], overrides: Mapping[str, Any], skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The values of dataclass ``cls``'s fields: ``overrides``, else variable
    ``FIELD`` of ``source`` parsed to the field's type, else the contents of the
    file that ``FIELD_FILE`` names (a secret mounted by compose or Kubernetes;
    surrounding whitespace dropped); a field without a default that none gives
    is ``ConfigError``. Fields in ``skip`` are left out."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        name = field.name.upper()
        if field.name in skip:
            continue
        if name in source and f"{name}_FILE" in source:
            raise ConfigError(f"set {name} or {name}_FILE, not both")
        if field.name in overrides:
            values[field.name] = overrides[field.name]
        elif name in source:
            values[field.name] = _parse(name, source[name], hints[field.name])
        elif f"{name}_FILE" in source:
            values[field.name] = _parse(name, _read_file(f"{name}_FILE", source[f"{name}_FILE"]), hints[field.name])
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{name} is required but not set")
    return values


def _read_file(variable: str, path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{variable}: cannot read it ({type(exc).__name__})") from None


@dataclasses.dataclass(frozen=True)
class Settings:
    """Settings every service shares. Field ``x`` is read from ``X``."""

    service_name: str
    nats_url: str = "nats://127.0.0.1:4222"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Acknowledged means on a replica too (alongside.kit.durable): after each
    # write, WAIT (or WAITAOF) for this many replicas, at most this long.
    redis_min_replicas: int = 0
    redis_wait_timeout_ms: int = 1000
    redis_wait_aof: bool = False
    listen_addr: str = "127.0.0.1:0"
    log_level: str = "info"
    # Prefix of every NATS subject, JetStream stream and Redis key; tests use
    # a unique one per test so they never see each other's data.
    namespace: str = "alongside"
    grace_seconds: float = 5.0
    default_deadline_seconds: float = 30.0
    health_interval_seconds: float = 1.0
    # Worker processes behind LISTEN_ADDR (``alongside.kit.workers``): one
    # per core the replica may use. REUSE_PORT is set for the workers.
    workers: int = 1
    reuse_port: bool = False
    # Create or update the JetStream streams at start-up, with this many
    # replicas; false: only check they exist (an operator provisions them).
    provision_streams: bool = True
    stream_replicas: int = 1
    # Load the Valkey function libraries at start-up when missing or stale
    # (a login that may: FUNCTION LOAD); false: only check they are loaded at
    # this build's version (an operator loads them: alongside valkey provision).
    provision_functions: bool = True
    # Prometheus metrics over HTTP at host:port (alongside.kit.metrics); off when empty.
    metrics_addr: str = ""
    # "uvloop" (the default where installed) or "asyncio" (alongside.kit.loop).
    event_loop: str = "uvloop"
    # Where the outbox relay runs: "inline", on the service's event loop, or
    # "process", a child process beside it (alongside.kit.events.relay_process),
    # which frees the event loop where relaying is a large share of each call.
    outbox_relay: str = "inline"
    # Authentication: every RPC but health needs a signed bearer token.
    # Production: AUTH_PUBLIC_KEYS (PEM files, Ed25519 or RSA). Development:
    # AUTH_HS256_SECRET (`make run` makes one under var/).
    auth_issuer: str = "alongside"
    auth_audience: str = "alongside"
    auth_public_keys: tuple[str, ...] = ()
    auth_hs256_secret: str = ""
    # This service's own signing key (PEM) for service-to-service tokens;
    # with only the HS256 secret, that secret signs them.
    auth_private_key: str = ""
    # The programme's OpenID provider: its tokens verify by the keys it
    # publishes (JWKS), at AUTH_JWKS_URL or found by discovery at
    # AUTH_OIDC_ISSUER/.well-known/openid-configuration. Their ``iss`` must be
    # AUTH_OIDC_ISSUER and their ``aud`` AUTH_OIDC_AUDIENCE (default:
    # AUTH_AUDIENCE); the Alongside role is read from AUTH_ROLE_CLAIM. A token
    # naming an unknown key id fetches the JWKS again, but no sooner than
    # AUTH_JWKS_REFRESH_SECONDS after the last fetch.
    auth_oidc_issuer: str = ""
    auth_jwks_url: str = ""
    auth_oidc_audience: str = ""
    auth_role_claim: str = "role"
    auth_jwks_refresh_seconds: float = 10.0
    # Transport security: server TLS, and mTLS when a client CA is given.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    # TLS to the brokers (alongside.kit.broker_tls), on with a tls:// NATS_URL
    # and a rediss:// or rediss+sentinel:// REDIS_URL: the CA their
    # certificates chain to (empty: the system's), and a client certificate
    # and key for brokers that require one.
    nats_tls_ca_file: str = ""
    nats_tls_cert_file: str = ""
    nats_tls_key_file: str = ""
    redis_tls_ca_file: str = ""
    redis_tls_cert_file: str = ""
    redis_tls_key_file: str = ""
    # Set by `make run`: health answers for "alongside.stack.<id>", so a CLI
    # can check it talks to the stack whose token it holds before sending it.
    stack_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        settings = cls(**read_fields(cls, os.environ if env is None else env, overrides))
        settings.validate()
        return settings

    def validate(self) -> None:
        _check_url("NATS_URL", self.nats_url, ("nats", "tls"))
        self._validate_redis()
        self._validate_broker_tls()
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        addrs = [("LISTEN_ADDR", self.listen_addr)]
        if self.metrics_addr:
            addrs.append(("METRICS_ADDR", self.metrics_addr))
        for name, addr in addrs:
            host, _, port = addr.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(f"{name} must look like host:port (port 0 picks a free one)")
        if self.stack_id and not self.stack_id.replace("-", "").isalnum():
            raise ConfigError("STACK_ID may hold only letters, digits and '-'")
        if not self.namespace.replace("_", "").replace("-", "").isalnum():
            raise ConfigError("NAMESPACE may hold only letters, digits, '-' and '_'")
        if self.event_loop not in ("uvloop", "asyncio"):
            raise ConfigError("EVENT_LOOP must be uvloop or asyncio")
        if self.outbox_relay not in ("process", "inline"):
            raise ConfigError("OUTBOX_RELAY must be process or inline")
        if not 1 <= self.workers <= 64:
            raise ConfigError("WORKERS must be between 1 and 64")
        if not 1 <= self.stream_replicas <= 5:
            raise ConfigError("STREAM_REPLICAS must be between 1 and 5")
        if self.grace_seconds < 0 or self.default_deadline_seconds <= 0:
            raise ConfigError("GRACE_SECONDS must be >= 0 and DEFAULT_DEADLINE_SECONDS > 0")
        if not self.auth_public_keys and not self.auth_hs256_secret:
            # Even beside AUTH_OIDC_ISSUER: the services' own calls to each other carry their own tokens.
            raise ConfigError("AUTH_PUBLIC_KEYS or AUTH_HS256_SECRET must be set: every RPC needs a signed token")
        self._validate_oidc()
        if self.auth_hs256_secret and len(self.auth_hs256_secret) < 32:
            raise ConfigError("AUTH_HS256_SECRET must be at least 32 characters")

    def nats_tls(self) -> BrokerTls:
        return BrokerTls(NATS_PREFIX, self.nats_tls_ca_file, self.nats_tls_cert_file, self.nats_tls_key_file)

    def redis_tls(self) -> BrokerTls:
        return BrokerTls(REDIS_PREFIX, self.redis_tls_ca_file, self.redis_tls_cert_file, self.redis_tls_key_file)

    def _validate_broker_tls(self) -> None:
        """A certificate with its key, and files only beside a URL that asks for TLS (never
        silently unused); the files themselves are read as the clients are made, at start."""
        try:
            check_urls(self.nats_url, self.nats_tls(), self.redis_url, self.redis_tls())
        except TlsConfigError as exc:
            raise ConfigError(str(exc)) from None

    def _validate_redis(self) -> None:
        if is_sentinel_url(self.redis_url):
            try:
                parse_sentinel_url(self.redis_url)
            except ValueError as exc:
                raise ConfigError(f"REDIS_URL: {exc} ({SENTINEL_SCHEME}://host:port,host:port/master/db)") from None
        else:
            _check_url("REDIS_URL", self.redis_url, ("redis", "rediss", "unix"))
        if not 0 <= self.redis_min_replicas <= 5:
            raise ConfigError("REDIS_MIN_REPLICAS must be between 0 and 5")
        if not 1 <= self.redis_wait_timeout_ms <= 60_000:
            raise ConfigError("REDIS_WAIT_TIMEOUT_MS must be between 1 and 60000")

    def durability(self) -> Durability:
        """What a write must reach before a call answers OK."""
        return Durability(self.redis_min_replicas, self.redis_wait_timeout_ms, self.redis_wait_aof)

    def _validate_oidc(self) -> None:
        if self.auth_jwks_url and not self.auth_oidc_issuer:
            raise ConfigError("AUTH_JWKS_URL needs AUTH_OIDC_ISSUER: the issuer its tokens must name")
        urls = [("AUTH_OIDC_ISSUER", self.auth_oidc_issuer), ("AUTH_JWKS_URL", self.auth_jwks_url)]
        for name, url in urls:
            try:
                if url:
                    check_fetch_url(url)
            except ValueError as exc:
                raise ConfigError(f"{name} {exc}") from None
        if not self.auth_role_claim.strip():
            raise ConfigError("AUTH_ROLE_CLAIM must name the claim that holds the role")
        if not 0 <= self.auth_jwks_refresh_seconds <= 3600:
            raise ConfigError("AUTH_JWKS_REFRESH_SECONDS must be between 0 and 3600")


def _parse(name: str, raw: str, kind: Any) -> Any:
    if isinstance(kind, types.UnionType):  # "X | None": parse as X
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    try:
        if kind is bool:
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind == tuple[str, ...]:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError:
        raise ConfigError(f"{name} must be a {getattr(kind, '__name__', kind)}") from None


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> None:
    for part in url.split(","):
        parsed = urlsplit(part.strip())
        if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
            raise ConfigError(f"{name} must be a URL with scheme {' or '.join(schemes)}")


def check_fetch_url(url: str) -> None:
    """``ValueError`` unless ``url`` is https, or http to a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return
    raise ValueError("must be an https URL (http only to localhost)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
