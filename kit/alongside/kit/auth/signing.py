"""Signatures over audit records, with the keys that sign and verify tokens.

A service signs each audit record with its own signing key (``AUTH_PRIVATE_KEY``,
Ed25519 or RSA; in development the HS256 secret), and the audit reader checks
it with the keys that verify tokens (``AUTH_PUBLIC_KEYS`` or the secret). The
signed bytes bind the record to the service it was written for, so a record
moved to another service's subject no longer verifies.

A signature is ``<alg>.<key id>.<base64url signature>``; the key id (the
first 8 bytes of a SHA-256 of the public key, or of the secret) picks the
verifying key without trying them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from alongside.kit.auth.tokens import Key

DOMAIN = b"alongside.audit.v1"


def signed_bytes(service: str, payload: bytes) -> bytes:
    return b"\0".join((DOMAIN, service.encode(), payload))


def key_id(material: Any) -> str:
    """A short, public id for a key: of the public half, or of the secret."""
    if isinstance(material, str | bytes):
        raw = material.encode() if isinstance(material, str) else material
        return hashlib.sha256(b"alongside-hs256-key-id\0" + raw).hexdigest()[:16]
    if isinstance(material, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        material = material.public_key()
    der = material.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


class Signer:
    """Signs with one private key (or the development secret)."""

    def __init__(self, material: Any) -> None:
        if isinstance(material, str | bytes):
            self.algorithm = "HS256"
            self._secret = material.encode() if isinstance(material, str) else material
        elif isinstance(material, ed25519.Ed25519PrivateKey):
            self.algorithm = "EdDSA"
        elif isinstance(material, rsa.RSAPrivateKey):
            self.algorithm = "RS256"
        else:
            raise ValueError("audit records are signed with an Ed25519 or RSA key, or the HS256 secret")
        self._key = material
        self._prefix = f"{self.algorithm}.{key_id(material)}."

    def sign(self, service: str, payload: bytes) -> str:
        data = signed_bytes(service, payload)
        if self.algorithm == "HS256":
            raw = hmac.digest(self._secret, data, "sha256")
        elif self.algorithm == "EdDSA":
            raw = self._key.sign(data)
        else:
            raw = self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self._prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


class SignatureCheck:
    """Verifies signatures with the keys that verify tokens."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self._keys = {(k.algorithm, key_id(k.material)): k for k in keys}

    def verify(self, service: str, payload: bytes, signature: str) -> bool:
        algorithm, _, rest = signature.partition(".")
        kid, _, encoded = rest.partition(".")
        key = self._keys.get((algorithm, kid))
        if key is None:
            return False
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            return False
        data = signed_bytes(service, payload)
        if algorithm == "HS256":
            secret = key.material.encode() if isinstance(key.material, str) else key.material
            return hmac.compare_digest(raw, hmac.digest(secret, data, "sha256"))
        try:
            if algorithm == "EdDSA":
                key.material.verify(raw, data)
            else:
                key.material.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True
