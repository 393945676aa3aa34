"""One rule per field of a peer's contact preferences.

Each function takes the raw value and the field name to report, returns the
normalised value, or raises ``InvalidArgument(field, rule)``. Messages state
the rule and never repeat the value: an address or URL is personal data.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alongside.kit.errors import InvalidArgument

MAX_EMAIL_LENGTH = 254  # RFC 5321 forward-path limit, minus the angle brackets
MAX_LOCAL_PART = 64
MAX_URL_LENGTH = 2048

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}")
# IANA keys are ASCII words joined by "/"; no dots, so no path tricks.
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+-]{1,32}(/[A-Za-z0-9_+-]{1,32}){0,2}")
# RFC 5322 dot-atom text, ASCII only: no quoted local parts, no display names.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DNS_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_WALL_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def check_language(value: str, field: str = "language") -> str:
    """A BCP-47-like tag (``en``, ``es-MX``). Unsupported but well-formed tags
    are kept; rendering falls back to English for them."""
    if not _LANGUAGE.fullmatch(value):
        raise InvalidArgument(field, "must be a language tag such as en or es-MX")
    primary, _, rest = value.partition("-")
    return primary.lower() + ("-" + rest if rest else "")


def check_timezone(value: str, field: str = "timezone") -> str:
    """An IANA time zone key known to the tz database (``Europe/Madrid``)."""
    if not _ZONE_KEY.fullmatch(value):
        raise InvalidArgument(field, "must be an IANA time zone such as Europe/Madrid")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidArgument(field, "is not a known IANA time zone") from exc
    return value


def check_email(value: str, field: str = "email") -> str:
    """A bare ASCII address: one ``@``, a dot-atom local part and a domain
    with a dot (or ``localhost``), 254 characters at most."""
    if len(value) > MAX_EMAIL_LENGTH:
        raise InvalidArgument(field, f"must be at most {MAX_EMAIL_LENGTH} characters")
    if value.count("@") != 1:
        raise InvalidArgument(field, "must be a bare address with exactly one @")
    local, domain = value.split("@")
    if len(local) > MAX_LOCAL_PART or not _LOCAL_PART.fullmatch(local):
        raise InvalidArgument(field, "has an invalid part before the @")
    if not _is_mail_domain(domain):
        raise InvalidArgument(field, "must have a domain such as example.org")
    return local + "@" + domain.lower()


def _is_mail_domain(domain: str) -> bool:
    labels = domain.split(".")
    if domain.lower() == "localhost":
        return True
    return (
        len(labels) >= 2
        and len(domain) <= 253
        and all(_DNS_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def check_webhook_url(value: str, field: str = "webhook_url", *, allow_loopback: bool = True) -> str:
    """An absolute https URL without credentials or fragment. Plain http is
    allowed only to a loopback host (for local gateways and tests), and
    loopback itself can be forbidden in production."""
    if len(value) > MAX_URL_LENGTH or any(c.isspace() for c in value):
        raise InvalidArgument(
            field,
            f"must be a URL of at most {MAX_URL_LENGTH} characters without spaces",
        )
    parts = _split_url(value, field)
    if parts.username is not None or parts.password is not None:
        raise InvalidArgument(field, "must not carry credentials")
    if parts.fragment:
        raise InvalidArgument(field, "must not have a fragment")
    host = parts.hostname or ""
    loopback = is_loopback_host(host)
    if loopback and not allow_loopback:
        raise InvalidArgument(field, "must not point at a loopback host")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise InvalidArgument(field, "must use https (http only to a loopback host)")
    return value


def _split_url(value: str, field: str) -> SplitResult:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidArgument(field, "must be a valid absolute URL") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(field, "must be an absolute http(s) URL with a host")
    return parts._replace(scheme=parts.scheme.lower())


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1. Names other than localhost are not
    resolved here; a name that resolves to loopback is treated as remote."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_wall_time(value: str, field: str) -> time:
    """A 24-hour local wall time ``HH:MM``."""
    match = _WALL_TIME.fullmatch(value)
    if match is None:
        raise InvalidArgument(field, "must be a 24-hour time HH:MM")
    return time(int(match.group(1)), int(match.group(2)))
