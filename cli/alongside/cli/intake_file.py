"""The intake YAML (docs/cli.md, docs/examples/intake.yaml) -> SubmitMatchRequestRequest.

The document mirrors the request in words a person writes: enum values in
lowercase, availability like ``mon 09:00-12:00``, and a preference either
as ``{values: [...], strength: required}`` or as a bare list (preferred;
certifications can only be required, so a bare list there is required).
Unknown keys are refused, so a typo never silently drops a preference.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.errors import CliError, ExitCode
from alongside.cli.parsing import bad, enum_value, enum_values, instant, timestamp, windows

TOP = (
    "participant",
    "peer_types",
    "preferences",
    "urgency",
    "acuity",
    "session_minutes",
    "shortlist_size",
    "previous_peer",
    "excluded_peers",
    "consent",
    "group_pathways",
)
PARTICIPANT = ("ref", "age_band", "time_zone", "availability", "interpreter_needed", "service_area")
PREFERENCES = (
    "languages",
    "gender",
    "cultures",
    "lived_experience",
    "pathways",
    "modalities",
    "service_area",
    "certifications",
)
CONSENT = ("scope", "recipients", "expires_at", "form_ref")
# The service names the request's fields; the file (and the flags) call some of them otherwise.
FILE_NAMES = (
    ("participant.participant_ref", "participant.ref"),
    ("previous_peer_id", "previous_peer"),
    ("excluded_peer_ids", "excluded_peers"),
)


def file_field(field: str) -> str:
    """The intake file's name for a field the matcher named: one field, one name in every message."""
    for service, file in FILE_NAMES:
        if field == service or field.startswith((service + ".", service + "[")):
            return file + field[len(service) :]
    return field


def load_file(path: Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing file or bad YAML is a clear input error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file — check the path", ExitCode.BAD_INPUT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(
            f"{path}: cannot be read ({type(exc).__name__}) — is it a UTF-8 text file?", ExitCode.BAD_INPUT
        ) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise CliError(f"{path}: {problem}{where} — fix the YAML (see docs/cli.md)", ExitCode.BAD_INPUT) from None
    if not isinstance(doc, dict):
        raise CliError(
            f"{path}: must be a YAML mapping with a participant: section (see docs/cli.md)", ExitCode.BAD_INPUT
        )
    return doc


def request_from_doc(doc: Mapping[str, Any], idempotency_key: str) -> pb.SubmitMatchRequestRequest:
    _known("intake", doc, TOP)
    req = pb.SubmitMatchRequestRequest(idempotency_key=idempotency_key)
    req.participant.CopyFrom(_participant(_mapping("participant", doc.get("participant"), required=True)))
    req.peer_types.extend(enum_values("peer_types", pb.PeerType, _list("peer_types", doc.get("peer_types"))))
    if not req.peer_types:
        raise bad(
            "peer_types",
            "must list at least one of recovery_coach, peer_specialist, peer_navigator, youth_peer, family_peer",
        )
    req.preferences.CopyFrom(_preferences(_mapping("preferences", doc.get("preferences"))))
    req.urgency = enum_value("urgency", pb.Urgency, doc.get("urgency", "routine"))
    req.acuity = _int("acuity", doc.get("acuity", 1))
    req.session_minutes = _int("session_minutes", doc.get("session_minutes", 0))
    req.shortlist_size = _int("shortlist_size", doc.get("shortlist_size", 0))
    req.previous_peer_id = str(doc.get("previous_peer") or "")
    req.excluded_peer_ids.extend(str(p) for p in _list("excluded_peers", doc.get("excluded_peers")))
    # The pathways a community group offered beside the shortlist should follow (docs/matcher.md).
    req.group_pathways.extend(
        enum_values("group_pathways", pb.GroupPathway, _list("group_pathways", doc.get("group_pathways")))
    )
    consent = _mapping("consent", doc.get("consent"))
    if consent:
        req.consent.CopyFrom(_consent(consent))
    return req


def _participant(doc: Mapping[str, Any]) -> pb.Participant:
    _known("participant", doc, PARTICIPANT)
    if not doc.get("ref"):
        raise bad("participant.ref", "is required: a pseudonymous reference such as demo-p-0042, never a name")
    if not doc.get("time_zone"):
        raise bad("participant.time_zone", "is required: an IANA time zone such as America/Chicago")
    return pb.Participant(
        participant_ref=str(doc["ref"]),
        age_band=enum_value("participant.age_band", pb.AgeBand, doc.get("age_band", "adult")),
        time_zone=str(doc["time_zone"]),
        availability=windows("participant.availability", _list("participant.availability", doc.get("availability"))),
        interpreter_needed=_bool("participant.interpreter_needed", doc.get("interpreter_needed", False)),
        service_area=str(doc.get("service_area") or ""),
    )


def _preferences(doc: Mapping[str, Any]) -> pb.Preferences:
    _known("preferences", doc, PREFERENCES)
    out = pb.Preferences()
    for name, raw in doc.items():
        field = f"preferences.{name}"
        shorthand = "required" if name == "certifications" else "preferred"
        spec = raw if isinstance(raw, dict) else {"values": raw, "strength": shorthand}
        _known(field, spec, ("values", "strength"))
        strength = enum_value(f"{field}.strength", pb.Strength, spec.get("strength", "preferred"))
        values = _list(f"{field}.values", spec.get("values"))
        if name == "modalities":
            out.modalities.CopyFrom(
                pb.ModalityPreference(values=enum_values(f"{field}.values", pb.Modality, values), strength=strength)
            )
        else:
            getattr(out, name).CopyFrom(pb.Preference(values=[str(v) for v in values], strength=strength))
    return out


def _consent(doc: Mapping[str, Any]) -> pb.Consent:
    _known("consent", doc, CONSENT)
    consent = pb.Consent(
        scope=str(doc.get("scope") or ""),
        recipients=[str(r) for r in _list("consent.recipients", doc.get("recipients"))],
        form_ref=str(doc.get("form_ref") or ""),
    )
    if doc.get("expires_at"):
        consent.expires_at.CopyFrom(timestamp(instant("consent.expires_at", doc["expires_at"])))
    return consent


def _known(field: str, doc: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [str(k) for k in doc if k not in allowed]
    if unknown:
        raise bad(field, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")


def _mapping(field: str, value: object, *, required: bool = False) -> Mapping[str, Any]:
    if value is None:
        if required:
            raise bad(field, "is required (see docs/examples/intake.yaml)")
        return {}
    if not isinstance(value, dict):
        raise bad(field, "must be a mapping (key: value lines, indented under it)")
    return value


def _list(field: str, value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str | int | float):
        return [value]
    raise bad(field, "must be a list such as [a, b]")


def _int(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(field, "must be a whole number")
    return value


def _bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise bad(field, "must be true or false")
    return value
