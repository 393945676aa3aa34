"""Structured JSON logs with correlation ids and a redaction processor.

Every line carries the service name; a correlation id is bound per RPC and per
event through contextvars. Personal fields are masked before rendering, so a
careless ``log.info("x", email=...)`` cannot leak.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

import structlog

from alongside.kit import tracing

REDACTED = "[redacted]"

# Keys whose values are personal or health data wherever they appear.
PERSONAL_KEYS = frozenset(
    {
        "name", "display_name", "first_name", "last_name", "full_name",
        "email", "phone", "address", "dob", "date_of_birth", "birth_date",
        "ssn", "mrn", "diagnosis", "notes", "note", "health", "conditions",
        "lived_experience", "pathways", "cultures", "gender", "languages",
        "webhook_url", "body", "text", "subject_line", "password", "token",
        "authorization", "secret", "consent_form", "form_ref",
    }
)  # fmt: skip
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# A phone number: optional country code, then 3-3-4 digits with separators.
# Anchored so ISO timestamps, ids and durations do not match.
_PHONE = re.compile(r"(?<![\w:.-])(\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}(?![\w:.-])")
_SAFE_KEYS = frozenset({"timestamp", "level", "service", "logger", "trace_id", "span_id"})


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask personal keys and contact-like strings."""
    for key in list(event):
        if key.lower() in PERSONAL_KEYS:
            event[key] = REDACTED
        elif key not in _SAFE_KEYS:
            event[key] = _scrub(event[key])
    return event


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, value))
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in PERSONAL_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def configure(service: str, level: str = "info", stream: Any = None, *, final: bool = False) -> None:
    """Configure structlog and route the stdlib loggers through it.

    ``final``: this is the process's one configuration (a service's entry
    point), so each logger is built once on first use rather than on every
    call; code that configures again (tests) leaves it off.
    """
    out = stream or sys.stdout
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        merge_call,
        add_trace,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        structlog.processors.format_exc_info,
        redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=final,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.getLevelName(level.upper()), logging.INFO))


def _add_service(service: str) -> Any:
    def processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        return event

    return processor


# What the current unit of work is (one RPC, one event): its correlation id
# and other ids and names, never personal data. One context variable, set
# once per unit and merged into a log line only when one is written: a call
# that logs nothing pays one set and one reset.
_CALL: ContextVar[Mapping[str, Any] | None] = ContextVar("alongside_call", default=None)
Binding = Token[Mapping[str, Any] | None]


def bind_correlation(correlation_id: str, **fields: Any) -> Binding:
    """Bind a correlation id (and ids, never personal data) for the logs and
    for ``current_correlation_id``; ``unbind_correlation`` undoes it."""
    return _CALL.set({"correlation_id": correlation_id, **fields})


def bind_more(**fields: Any) -> None:
    """Add fields to the current unit of work (undone with it)."""
    _CALL.set({**(_CALL.get() or {}), **fields})


def unbind_correlation(binding: Binding) -> None:
    _CALL.reset(binding)


def merge_call(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current unit of work's fields."""
    for key, value in (_CALL.get() or {}).items():
        event.setdefault(key, value)
    return event


def add_trace(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current span's ``trace_id`` and ``span_id``
    (with tracing on), beside the correlation id."""
    ids = tracing.current_ids()
    if ids is not None:
        event.setdefault("trace_id", ids[0])
        event.setdefault("span_id", ids[1])
    return event


@contextmanager
def correlation(correlation_id: str, **fields: Any) -> Iterator[None]:
    """``bind_correlation`` for a block: a unit of work such as one event."""
    binding = bind_correlation(correlation_id, **fields)
    try:
        yield
    finally:
        unbind_correlation(binding)


def current_correlation_id() -> str | None:
    fields = _CALL.get()
    value = None if fields is None else fields.get("correlation_id")
    return None if value is None else str(value)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
