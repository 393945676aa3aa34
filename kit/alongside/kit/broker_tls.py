"""TLS to the brokers, NATS and Valkey, with a programme's private CA.

The one place that turns the ``NATS_TLS_*`` and ``REDIS_TLS_*`` file settings
into what the clients take: an ``ssl.SSLContext`` for nats-py and the
``ssl_*`` options from which redis-py builds its own. Every caller (the
services, the outbox relay process, the CLI) goes through it.

- ``*_CA_FILE``: the CA bundle (PEM) the broker's certificate must chain to;
  empty: the system's trust store.
- ``*_CERT_FILE`` and ``*_KEY_FILE``: a client certificate and its key, for a
  broker that requires them (mutual TLS); both or neither.

TLS is on when the URL says so: ``tls://`` for NATS, ``rediss://`` or
``rediss+sentinel://`` for Valkey; the files are refused beside a plain-text
URL rather than ignored. Certificates are always verified, host names too.
NATS goes TLS-first (``tls_handshake_first``): no byte, not even the
server's INFO, travels before the handshake, so a server (or someone in the
way) that offers no TLS is refused instead of silently talked to in plain
text, which nats-py would otherwise do. The server's ``tls`` block needs
``handshake_first`` for it (``deploy/k8s/nats/values-tls.yaml``).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_VERSION = ssl.TLSVersion.TLSv1_2
NATS_PREFIX, REDIS_PREFIX = "NATS_TLS", "REDIS_TLS"  # the settings' names: NATS_TLS_CA_FILE, ...


class TlsConfigError(ValueError):
    """A TLS file setting is incomplete or unreadable; the message names the variable."""


@dataclass(frozen=True)
class BrokerTls:
    """The TLS files for one broker; ``prefix`` names their variables (``NATS_TLS``)."""

    prefix: str
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""

    @classmethod
    def from_env(cls, source: Mapping[str, str], prefix: str) -> BrokerTls:
        """From ``<prefix>_CA_FILE``, ``<prefix>_CERT_FILE``, ``<prefix>_KEY_FILE``."""
        return cls(
            prefix,
            source.get(f"{prefix}_CA_FILE", ""),
            source.get(f"{prefix}_CERT_FILE", ""),
            source.get(f"{prefix}_KEY_FILE", ""),
        )

    @property
    def configured(self) -> bool:
        return bool(self.ca_file or self.cert_file or self.key_file)

    def check_complete(self) -> None:
        """``TlsConfigError`` unless a certificate comes with its key (settings check this)."""
        if bool(self.cert_file) != bool(self.key_file):
            raise TlsConfigError(f"set {self.prefix}_CERT_FILE and {self.prefix}_KEY_FILE together, or neither")

    def check(self) -> None:
        """``TlsConfigError`` unless the files are complete and exist (checked as a client is made)."""
        self.check_complete()
        for suffix, path in (("CA_FILE", self.ca_file), ("CERT_FILE", self.cert_file), ("KEY_FILE", self.key_file)):
            if path and not Path(path).is_file():
                raise TlsConfigError(f"{self.prefix}_{suffix}: no such file")

    def context(self) -> ssl.SSLContext:
        """A client context: the broker's certificate must chain to the CA and name the host."""
        self.check()
        try:
            context = ssl.create_default_context(cafile=self.ca_file or None)
            if self.cert_file:
                context.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise TlsConfigError(f"{self.prefix}_* files: cannot load them ({type(exc).__name__})") from None
        context.minimum_version = MIN_VERSION
        return context

    def redis_options(self) -> dict[str, Any]:
        """redis-py's options for a TLS connection (it builds the context from them)."""
        self.check()
        options: dict[str, Any] = {
            "ssl_cert_reqs": "required",
            "ssl_check_hostname": True,
            "ssl_min_version": MIN_VERSION,
        }
        if self.ca_file:
            options["ssl_ca_certs"] = self.ca_file
        if self.cert_file:
            options["ssl_certfile"], options["ssl_keyfile"] = self.cert_file, self.key_file
        return options


def nats_uses_tls(url: str, tls: BrokerTls) -> bool:
    """Whether ``url`` (a comma-separated list) asks for TLS; ``TlsConfigError`` when it
    mixes ``tls://`` and ``nats://``, or when ``tls`` has files beside a plain-text URL."""
    schemes = {part.strip().partition("://")[0] for part in url.split(",")}
    if "tls" in schemes and schemes != {"tls"}:
        raise TlsConfigError("NATS_URL: use tls:// for every server or for none")
    if tls.configured and schemes != {"tls"}:
        raise TlsConfigError(f"{tls.prefix}_* files are set but NATS_URL is not tls://")
    return schemes == {"tls"}


def nats_options(url: str, tls: BrokerTls) -> dict[str, Any]:
    """nats.connect's TLS options for ``url``: none for ``nats://``, TLS-first for ``tls://``."""
    return {"tls": tls.context(), "tls_handshake_first": True} if nats_uses_tls(url, tls) else {}


def check_urls(nats_url: str, nats: BrokerTls, redis_url: str, redis: BrokerTls) -> None:
    """``TlsConfigError`` unless each broker's files are complete and its URL asks for TLS
    where they are set: what settings can check before the files are mounted."""
    nats_uses_tls(nats_url, nats)
    redis_uses_tls(redis_url, redis)
    nats.check_complete()
    redis.check_complete()


def verify_failure(exc: BaseException | None) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind ``exc`` (a client library's wrapper), if any."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def does_not_verify(broker: str, prefix: str, url_variable: str, exc: ssl.SSLCertVerificationError) -> str:
    """What a broker certificate that does not verify means, for an operator."""
    return (
        f"{broker}'s certificate does not verify ({exc.verify_message}): it must chain to "
        f"{prefix}_CA_FILE (or a system CA) and name the host in {url_variable}"
    )


def redis_uses_tls(url: str, tls: BrokerTls) -> bool:
    """Whether ``url`` asks for TLS (``rediss://``, ``rediss+sentinel://``);
    ``TlsConfigError`` when ``tls`` has files beside a plain-text URL."""
    secure = url.startswith(("rediss://", "rediss+sentinel://"))
    if tls.configured and not secure:
        raise TlsConfigError(f"{tls.prefix}_* files are set but REDIS_URL is not rediss:// or rediss+sentinel://")
    return secure
