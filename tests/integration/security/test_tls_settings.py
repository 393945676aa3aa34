"""TLS settings are checked when the credentials are made: a bad file stops
start-up with a message that names the variable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alongside.kit.grpc.tls import channel_credentials, server_credentials
from alongside.kit.settings import ConfigError, Settings
from alongside.kit.testing.auth import TEST_AUTH
from alongside.kit.testing.certs import Issued
from tests.integration.security.conftest import Pki


def settings(cert: Path | str = "", key: Path | str = "", ca: Path | str = "") -> Settings:
    return Settings.from_env(
        {}, **TEST_AUTH, service_name="test", tls_cert_file=str(cert), tls_key_file=str(key), tls_client_ca_file=str(ca)
    )


def test_no_files_means_plaintext() -> None:
    assert server_credentials(settings()) is None


def test_server_tls_and_mtls_credentials(pki: Pki) -> None:
    assert isinstance(server_credentials(settings(pki.server_cert, pki.server_key)), grpc.ServerCredentials)
    mtls = server_credentials(settings(pki.server_cert, pki.server_key, pki.ca))
    assert isinstance(mtls, grpc.ServerCredentials)


@pytest.mark.parametrize(
    ("cert", "key", "ca", "variable"),
    [
        ("server_cert", "", "", "TLS_KEY_FILE"),
        ("", "server_key", "", "TLS_CERT_FILE"),
        ("", "", "ca", "TLS_CLIENT_CA_FILE"),
        ("missing", "server_key", "", "TLS_CERT_FILE"),
        ("server_cert", "missing", "", "TLS_KEY_FILE"),
        ("server_cert", "server_key", "missing", "TLS_CLIENT_CA_FILE"),
        ("server_key", "server_key", "", "TLS_CERT_FILE"),  # a key where the certificate belongs
        ("server_cert", "server_cert", "", "TLS_KEY_FILE"),  # a certificate where the key belongs
        ("server_cert", "client_key", "", "TLS_KEY_FILE"),  # another certificate's key
        ("server_cert", "server_key", "server_key", "TLS_CLIENT_CA_FILE"),
    ],
)
def test_bad_settings_name_the_variable(pki: Pki, tmp_path: Path, cert: str, key: str, ca: str, variable: str) -> None:
    def path(name: str) -> Path | str:
        return "" if not name else tmp_path / "nope.pem" if name == "missing" else getattr(pki, name)

    with pytest.raises(ConfigError, match=variable):
        server_credentials(settings(path(cert), path(key), path(ca)))


def test_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old")])
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(long_ago)
        .not_valid_after(long_ago + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    cert_path, key_path = Issued(cert.public_bytes(pem), key_pem).write(tmp_path, "old")
    with pytest.raises(ConfigError, match="TLS_CERT_FILE holds a certificate that has expired"):
        server_credentials(settings(cert_path, key_path))


def test_an_encrypted_key_is_refused(pki: Pki, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(pki.server_key.read_bytes(), None)
    locked = tmp_path / "locked.pem"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(ConfigError, match="TLS_KEY_FILE must hold an unencrypted PEM private key"):
        server_credentials(settings(pki.server_cert, locked))


def test_channel_credentials(pki: Pki, tmp_path: Path) -> None:
    assert isinstance(channel_credentials(str(pki.ca)), grpc.ChannelCredentials)
    assert isinstance(channel_credentials(""), grpc.ChannelCredentials)  # the system's roots
    mtls = channel_credentials(str(pki.ca), str(pki.client_cert), str(pki.client_key))
    assert isinstance(mtls, grpc.ChannelCredentials)
    with pytest.raises(ConfigError, match="TLS_CA_FILE"):
        channel_credentials(str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError, match="TLS_CLIENT_CERT_FILE and TLS_CLIENT_KEY_FILE must be set together"):
        channel_credentials(str(pki.ca), str(pki.client_cert))
    with pytest.raises(ConfigError, match="MATCHER_CLIENT_KEY"):
        names = ("MATCHER_CA", "MATCHER_CERT", "MATCHER_CLIENT_KEY")
        channel_credentials(str(pki.ca), str(pki.client_cert), str(pki.server_key), variables=names)
