"""Identifiers: one rule for every service, and new ids that follow it.

Ids are random, opaque and free of any meaning about people. Every id a
caller or an event hands a service (peer, request, match, batch, session,
notification, event ids and participant references) obeys one rule:

- 1 to 64 characters (``MAX_ID_LENGTH``);
- ASCII letters, digits and ``.`` ``_`` ``:`` ``-`` (no ``@``: an id is never
  an e-mail address, no ``/`` or spaces);
- the first character a letter or digit, so an id never reads as a flag or a
  relative path.

A scoped id names the object it belongs to: ``<owner id>~<id>``, two ids
joined by ``~`` (the scheduler's session and series ids start with their
peer's id, so an object-level check needs no lookup). ``~`` occurs in no
plain id.

The checks raise ``InvalidArgument`` naming the field and the rule, never the
value. A malformed id is INVALID_ARGUMENT; a well-formed id that names
nothing stays NOT_FOUND.
"""

from __future__ import annotations

import re
import secrets
import time

from alongside.kit.errors import InvalidArgument

MAX_ID_LENGTH = 64
SCOPE_SEP = "~"
ID_RULE = f"1-{MAX_ID_LENGTH} letters, digits or . _ : - starting with a letter or digit"
_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{MAX_ID_LENGTH - 1}}}")


def new_id(prefix: str = "") -> str:
    """A sortable id: milliseconds since the epoch, then 64 random bits."""
    stamp = format(time.time_ns() // 1_000_000, "012x")
    return f"{prefix}{stamp}{secrets.token_hex(8)}"


def is_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(field: str, value: str, *, optional: bool = False) -> str:
    """``value`` if it is an id; ``optional`` lets '' (not given) through."""
    if value == "" and optional:
        return value
    if not isinstance(value, str) or not value:
        raise InvalidArgument(field, f"is required: an id of {ID_RULE}")
    if not _ID.fullmatch(value):
        raise InvalidArgument(field, f"must be an id of {ID_RULE}")
    return value


def scoped_id(owner: str, local: str) -> str:
    return f"{owner}{SCOPE_SEP}{local}"


def is_scoped_id(value: object) -> bool:
    if not isinstance(value, str):
        return False
    owner, sep, local = value.partition(SCOPE_SEP)
    return bool(sep) and is_id(owner) and is_id(local)


def check_scoped_id(field: str, value: str) -> str:
    """The owner's id of a scoped id ``<owner id>~<id>``."""
    if not is_scoped_id(value):
        raise InvalidArgument(field, f"must be an id of the form <owner>~<id>, each {ID_RULE}")
    return value.partition(SCOPE_SEP)[0]


def is_ref(value: object) -> bool:
    """A reference to another service's object: an id or a scoped id."""
    return is_id(value) or is_scoped_id(value)


def check_ref(field: str, value: str) -> str:
    if not is_ref(value):
        raise InvalidArgument(field, f"must be an id ({ID_RULE}), or two joined by ~")
    return value
