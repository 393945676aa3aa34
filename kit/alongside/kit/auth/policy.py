"""Who may call what: one table per service from RPC name to roles.

Handlers then apply object-level rules with ``current_identity()`` (a peer
sees only their own objects). The table must name every RPC of the service,
so a new RPC without a rule fails at start-up instead of being open.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alongside.kit.auth.tokens import SERVICE_PREFIX, Identity, Verifier
from alongside.kit.errors import PermissionDenied, Unauthenticated

_identity: contextvars.ContextVar[Identity | None] = contextvars.ContextVar("identity", default=None)
BEARER = "bearer "


def current_identity() -> Identity:
    identity = _identity.get()
    if identity is None:
        raise Unauthenticated("this call needs a bearer token")
    _require_subject(identity)
    return identity


def optional_identity() -> Identity | None:
    """The caller, or None where no authorizer runs; never a blank subject."""
    identity = _identity.get()
    if identity is not None:
        _require_subject(identity)
    return identity


@dataclass(frozen=True)
class Policy:
    """RPC full method name -> the roles allowed (``service:x`` for a service)."""

    rules: Mapping[str, frozenset[str]]

    @classmethod
    def for_service(cls, service: str, rpcs: Iterable[str], table: Mapping[str, Iterable[str]]) -> Policy:
        missing = sorted(set(rpcs) - set(table))
        if missing:
            raise ValueError(f"no authorisation rule for {', '.join(missing)}")
        return cls({f"/{service}/{rpc}": frozenset(roles) for rpc, roles in table.items()})

    def methods(self, rpcs: Iterable[str]) -> tuple[str, ...]:
        """Full method names of ``rpcs`` (which must be in the table)."""
        wanted = set(rpcs)
        found = tuple(m for m in self.rules if m.rsplit("/", 1)[1] in wanted)
        if len(found) != len(wanted):
            raise ValueError("unknown RPC in an audited set")
        return found


class Authorizer:
    def __init__(self, verifier: Verifier, policies: Iterable[Policy]) -> None:
        self._verifier = verifier
        self._rules: dict[str, frozenset[str]] = {}
        for policy in policies:
            self._rules.update(policy.rules)

    def governs(self, method: str) -> bool:
        return method in self._rules

    def authenticate(self, metadata: Iterable[tuple[str, object]]) -> Identity:
        """Who is calling: the verified bearer token's subject and role."""
        return self._verifier.verify(_bearer(metadata))

    async def authenticate_async(self, metadata: Iterable[tuple[str, object]]) -> Identity:
        """As ``authenticate``, fetching the OpenID provider's keys again if
        the token names one not seen yet (``Verifier.verify_async``)."""
        return await self._verifier.verify_async(_bearer(metadata))

    def permit(self, method: str, identity: Identity) -> contextvars.Token[Identity | None]:
        """Check the role table for ``method``; bind the identity for handlers."""
        _require_subject(identity)
        if identity.role not in self._rules.get(method, frozenset()):
            raise PermissionDenied(f"the role {_shown(identity.role)} may not call this")
        return _identity.set(identity)

    def authorize(self, method: str, metadata: Iterable[tuple[str, object]]) -> contextvars.Token[Identity | None]:
        return self.permit(method, self.authenticate(metadata))


def _bearer(metadata: Iterable[tuple[str, object]]) -> str:
    token = next((str(v) for k, v in metadata if k == "authorization"), "")
    if not token.lower().startswith(BEARER):
        raise Unauthenticated("this call needs 'authorization: Bearer <token>'")
    return token[len(BEARER) :].strip()


def reset(token: contextvars.Token[Identity | None]) -> None:
    _identity.reset(token)


def _shown(role: str) -> str:
    return "service" if role.startswith(SERVICE_PREFIX) else role


def _require_subject(identity: Identity) -> None:
    """A blank subject is no one: it must never match an owner, nor pass as staff."""
    if not identity.subject.strip():
        raise Unauthenticated("the token names no subject: an empty subject is no one")


def require_own(peer_id: str, what: str) -> None:
    """Object-level rule: a caller with the peer role reaches only their own ``what``.

    Compared against a non-empty identity: a blank subject is refused outright,
    and an object with no owner (``peer_id`` blank) belongs to no peer.
    """
    identity = optional_identity()
    if identity is None or identity.role != "peer":
        return
    if not peer_id.strip() or identity.subject != peer_id:
        raise PermissionDenied(f"a peer may reach only their own {what}")


def is_staff() -> bool:
    identity = optional_identity()
    return identity is not None and identity.role in ("intake", "manager", "admin")
