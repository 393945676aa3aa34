"""Transport security for gRPC: server credentials from settings, and client
channel credentials.

The server speaks TLS when TLS_CERT_FILE and TLS_KEY_FILE are both set. With
TLS_CLIENT_CA_FILE as well it requires mTLS: a client must present a
certificate that CA signed, or the handshake fails before any RPC runs.

The files are read and checked when the credentials are made, so a missing
file, a malformed PEM, an expired certificate or a key that does not belong to
it stops start-up with a message naming the variable. The server looks at the
files again before each new connection's handshake and takes rotated ones
(cert-manager, a mounted secret) without a restart; a half-written rotation is
ignored until the files are consistent again.
"""

from __future__ import annotations

import datetime as dt

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from alongside.kit.logging import get_logger
from alongside.kit.settings import ConfigError, Settings

log = get_logger(__name__)

# The variables a client's files come from, named in its errors.
CLIENT_VARIABLES = ("TLS_CA_FILE", "TLS_CLIENT_CERT_FILE", "TLS_CLIENT_KEY_FILE")


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS (or mTLS) credentials for the gRPC server; None means plaintext."""
    cert, key, ca = settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file
    if not cert and not key:
        if ca:
            raise ConfigError("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE: mTLS is on top of server TLS")
        return None
    if not (cert and key):
        raise ConfigError("TLS_CERT_FILE and TLS_KEY_FILE must be set together")
    reload = _Reloader(cert, key, ca)
    return grpc.dynamic_ssl_server_credentials(reload.initial, reload, require_client_authentication=bool(ca))


def channel_credentials(
    ca_file: str, cert_file: str = "", key_file: str = "", *, variables: tuple[str, str, str] = CLIENT_VARIABLES
) -> grpc.ChannelCredentials:
    """Credentials for a client channel: trust ``ca_file`` (the system's roots
    when empty) and, for mTLS, present ``cert_file`` with ``key_file``.
    ``variables`` name the three settings in errors."""
    ca_var, cert_var, key_var = variables
    if bool(cert_file) != bool(key_file):
        raise ConfigError(f"{cert_var} and {key_var} must be set together")
    roots = _certificates(ca_var, ca_file) if ca_file else None
    if not cert_file:
        return grpc.ssl_channel_credentials(root_certificates=roots)
    chain, key = _key_pair(cert_var, cert_file, key_var, key_file)
    return grpc.ssl_channel_credentials(root_certificates=roots, private_key=key, certificate_chain=chain)


class _Reloader:
    """The server's certificate fetcher: a new configuration when the files change."""

    def __init__(self, cert: str, key: str, ca: str) -> None:
        self._files = (cert, key, ca)
        self._raw = self._snapshot()
        self.initial = self._configuration()

    def _snapshot(self) -> tuple[bytes, ...]:
        variables = ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CLIENT_CA_FILE")
        return tuple(_read(v, path) if path else b"" for v, path in zip(variables, self._files, strict=True))

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        cert, key, ca = self._files
        chain, private = _key_pair("TLS_CERT_FILE", cert, "TLS_KEY_FILE", key)
        roots = _certificates("TLS_CLIENT_CA_FILE", ca) if ca else None
        return grpc.ssl_server_certificate_configuration([(private, chain)], roots)

    def __call__(self) -> grpc.ServerCertificateConfiguration | None:
        # gRPC calls this before every handshake: it must be cheap and never raise.
        try:
            raw = self._snapshot()
            if raw == self._raw:
                return None
            configuration = self._configuration()
        except ConfigError as exc:
            log.warning("tls.reload_skipped", reason=str(exc))
            return None
        # Checked files may differ from the snapshot only if they changed
        # again meanwhile; the next handshake then picks that up.
        self._raw = raw
        log.info("tls.reloaded")
        return configuration


def _read(variable: str, path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(f"{variable} names a file that cannot be read: {path} ({exc.strerror})") from None


def _certificates(variable: str, path: str) -> bytes:
    pem = _read(variable, path)
    try:
        x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise ConfigError(f"{variable} must hold PEM certificates: {path}") from None
    return pem


def _key_pair(cert_variable: str, cert_path: str, key_variable: str, key_path: str) -> tuple[bytes, bytes]:
    """The chain and key, checked: readable, PEM, current, and belonging together."""
    chain = _certificates(cert_variable, cert_path)
    leaf = x509.load_pem_x509_certificates(chain)[0]
    if leaf.not_valid_after_utc <= dt.datetime.now(dt.UTC):
        raise ConfigError(f"{cert_variable} holds a certificate that has expired: {cert_path}")
    pem = _read(key_variable, key_path)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):  # TypeError: the key is encrypted
        raise ConfigError(f"{key_variable} must hold an unencrypted PEM private key: {key_path}") from None
    if _spki(key.public_key()) != _spki(leaf.public_key()):
        raise ConfigError(f"{key_variable} does not hold the key of the certificate in {cert_variable}")
    return chain, pem


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
