"""A token always names someone: a blank subject is refused when minting,
when verifying (HS256 and Ed25519), and by every object-level check."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from alongside.kit.auth import policy
from alongside.kit.auth.policy import Authorizer, Policy, current_identity, is_staff, optional_identity, require_own
from alongside.kit.auth.tokens import ROLES, Identity, Key, Minter, Verifier, key_from_pem
from alongside.kit.errors import PermissionDenied, Unauthenticated

SECRET = "test-secret-that-is-long-enough-for-hs256"
ISS, AUD = "alongside", "alongside"
BLANK = ["", " ", "\t", "\n \u3000"]
EVERY_ROLE = [*ROLES, "service:scheduler"]


def claims(subject: object, role: str) -> dict[str, object]:
    return {"iss": ISS, "aud": AUD, "sub": subject, "role": role, "exp": int(time.time()) + 60}


def ed25519_pair() -> tuple[ed25519.Ed25519PrivateKey, Key]:
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, key_from_pem(pem)


@pytest.mark.parametrize("role", EVERY_ROLE)
@pytest.mark.parametrize("subject", BLANK)
def test_a_blank_subject_cannot_be_minted(subject: str, role: str) -> None:
    private, key = ed25519_pair()
    for minter in (Minter(SECRET, "HS256", ISS, AUD), Minter(private, key.algorithm, ISS, AUD)):
        with pytest.raises(ValueError, match="subject"):
            minter.mint(subject, role)


@pytest.mark.parametrize("role", EVERY_ROLE)
@pytest.mark.parametrize("subject", BLANK)
def test_a_hand_made_hs256_token_with_a_blank_subject_is_refused(subject: str, role: str) -> None:
    token = jwt.encode(claims(subject, role), SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="subject"):
        Verifier([Key("HS256", SECRET)], ISS, AUD).verify(token)


@pytest.mark.parametrize("role", EVERY_ROLE)
@pytest.mark.parametrize("subject", BLANK)
def test_a_hand_made_ed25519_token_with_a_blank_subject_is_refused(subject: str, role: str) -> None:
    private, key = ed25519_pair()
    token = jwt.encode(claims(subject, role), private, algorithm="EdDSA")
    with pytest.raises(Unauthenticated, match="subject"):
        Verifier([key], ISS, AUD).verify(token)


def test_a_subject_that_is_not_text_is_refused() -> None:
    private, key = ed25519_pair()
    with pytest.raises(Unauthenticated):
        Verifier([key], ISS, AUD).verify(jwt.encode(claims(7, "peer"), private, algorithm="EdDSA"))


def test_a_real_subject_still_verifies_with_either_key() -> None:
    private, key = ed25519_pair()
    assert Verifier([key], ISS, AUD).verify(Minter(private, "EdDSA", ISS, AUD).mint("p-1", "peer")) == Identity(
        "p-1", "peer"
    )
    hs = Minter(SECRET, "HS256", ISS, AUD).mint("m-1", "manager")
    assert Verifier([Key("HS256", SECRET)], ISS, AUD).verify(hs) == Identity("m-1", "manager")


@pytest.fixture
def bound() -> Iterator[list[object]]:
    """Bind identities as any other source of them (mTLS, a future IdP) might."""
    tokens: list[object] = []
    yield tokens
    for token in reversed(tokens):
        policy._identity.reset(token)  # type: ignore[arg-type]


@pytest.mark.parametrize("subject", BLANK)
def test_require_own_refuses_a_blank_subject_even_for_an_ownerless_object(bound: list[object], subject: str) -> None:
    bound.append(policy._identity.set(Identity(subject, "peer")))
    for owner in (subject, "", "p-1"):
        with pytest.raises(Unauthenticated, match="subject"):
            require_own(owner, "sessions")
    with pytest.raises(Unauthenticated, match="subject"):
        current_identity()
    with pytest.raises(Unauthenticated, match="subject"):
        optional_identity()


@pytest.mark.parametrize("role", ["intake", "manager", "admin"])
def test_a_blank_subject_is_not_staff(bound: list[object], role: str) -> None:
    bound.append(policy._identity.set(Identity("", role)))
    with pytest.raises(Unauthenticated, match="subject"):
        is_staff()


def test_require_own_compares_against_the_owner(bound: list[object]) -> None:
    bound.append(policy._identity.set(Identity("p-1", "peer")))
    require_own("p-1", "sessions")
    for other in ("p-2", "", " ", "p-1 "):
        with pytest.raises(PermissionDenied):
            require_own(other, "sessions")


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_the_authorizer_binds_no_blank_identity(role: str) -> None:
    table = Policy.for_service("svc.v1.S", ["Read"], {"Read": set(EVERY_ROLE)})
    auth = Authorizer(Verifier([Key("HS256", SECRET)], ISS, AUD), [table])
    with pytest.raises(Unauthenticated, match="subject"):
        auth.permit("/svc.v1.S/Read", Identity(" ", role))
