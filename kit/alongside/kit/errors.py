"""Domain errors shared by every service.

Domain and service code raise these; the gRPC kit maps each class to one
status code (see ``alongside.kit.grpc.errors``). Messages must never carry
personal data: name the field and the rule, not the value.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class for foreseeable errors that map to a gRPC status."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DomainError):
    """The caller sent a value that breaks a rule. ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(DomainError):
    """The named object does not exist."""


class AlreadyExists(DomainError):
    """The object to create exists already."""


class FailedPrecondition(DomainError):
    """The object's state forbids the operation (for example, a full caseload)."""


class Aborted(DomainError):
    """A concurrent writer won the race; the caller may retry."""


class Unavailable(DomainError):
    """A dependency (Redis, NATS, another service) is down."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError):
    """The caller did not prove who they are."""
