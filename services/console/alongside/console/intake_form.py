"""The new-intake form: form fields -> ``SubmitMatchRequestRequest``, and its errors.

Errors are the matcher's own: the form is turned into the request the API
would receive and checked with the matcher's validation (``request_in``,
``validate_request``, ``check_consent``), so the console says exactly what
the API would, under the policy the matcher runs (a certification may be
preferred only where the programme's policy allows it). The matcher stops at the first broken rule; to list them all
at once, the field it named is set to a harmless value and the check runs
again, until the request passes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from starlette.datastructures import FormData

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit.errors import InvalidArgument
from alongside.matcher.domain.programme_policy import DEFAULT_POLICY, ProgrammePolicy
from alongside.matcher.domain.validation import validate_request
from alongside.matcher.mappers import request_in
from alongside.matcher.service.consent import check_consent

PREFERENCES = ("languages", "gender", "cultures", "lived_experience", "pathways", "service_area", "certifications")
AGE_BANDS = ("CHILD", "YOUTH", "YOUNG_ADULT", "ADULT", "OLDER_ADULT")
PEER_TYPES = ("RECOVERY_COACH", "PEER_SPECIALIST", "PEER_NAVIGATOR", "YOUTH_PEER", "FAMILY_PEER")
MODALITIES = ("IN_PERSON", "PHONE", "VIDEO", "TEXT")
URGENCIES = ("ROUTINE", "PRIORITY", "URGENT")
RECIPIENTS = ("assigned-peer", "programme")
SESSION_LENGTHS = (30, 45, 60, 90)
DAYS = range(1, 8)
HOURS = range(24)
MAX_ROUNDS = 40

# The API's dotted field (its first part) -> the form field that holds it.
FORM_FIELD = {
    "participant.participant_ref": "participant_ref",
    "participant.age_band": "age_band",
    "participant.time_zone": "time_zone",
    "participant.availability": "availability",
    "participant.service_area": "service_area",
    "peer_types": "peer_types",
    "urgency": "urgency",
    "acuity": "acuity",
    "session_minutes": "session_minutes",
    "consent.scope": "consent_scope",
    "consent.recipients": "consent_recipients",
    "consent.expires_at": "consent_expires",
    "consent.form_ref": "consent_form_ref",
    **{f"preferences.{name}": f"pref_{name}" for name in (*PREFERENCES, "modalities")},
}
def _clear_preference(name: str, r: pb.SubmitMatchRequestRequest) -> None:
    r.preferences.ClearField(name)  # type: ignore[arg-type]


# What to put in a field the matcher refused, so the next round checks the others.
_HARMLESS: dict[str, Callable[[pb.SubmitMatchRequestRequest], None]] = {
    "participant_ref": lambda r: setattr(r.participant, "participant_ref", "checked"),
    "age_band": lambda r: setattr(r.participant, "age_band", pb.AGE_BAND_ADULT),
    "time_zone": lambda r: setattr(r.participant, "time_zone", "UTC"),
    "availability": lambda r: _replace(r.participant.availability, [_window(1, [0])]),
    "service_area": lambda r: setattr(r.participant, "service_area", "checked"),
    "peer_types": lambda r: _replace(r.peer_types, [pb.PEER_TYPE_RECOVERY_COACH]),
    "urgency": lambda r: setattr(r, "urgency", pb.URGENCY_ROUTINE),
    "acuity": lambda r: setattr(r, "acuity", 1),
    "session_minutes": lambda r: setattr(r, "session_minutes", 60),
    **{f"pref_{n}": functools.partial(_clear_preference, n) for n in (*PREFERENCES, "modalities")},
    **{name: (lambda r: r.ClearField("consent")) for name in FORM_FIELD.values() if name.startswith("consent_")},
}


def _replace(repeated: Any, values: list[Any]) -> None:
    del repeated[:]
    repeated.extend(values)


@dataclass
class Checked:
    request: pb.SubmitMatchRequestRequest
    # Form field -> the first message for it, in the order the fields appear.
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def form_field(api_field: str) -> str:
    """``participant.availability[2].day`` -> ``availability``."""
    base = api_field.split("[", 1)[0]
    for prefix in sorted(FORM_FIELD, key=len, reverse=True):
        if base == prefix or base.startswith(prefix + "."):
            return FORM_FIELD[prefix]
    return ""


def check(form: FormData, now: datetime, policy: ProgrammePolicy = DEFAULT_POLICY) -> Checked:
    """The form's request and its errors, by the matcher's rules under the programme's ``policy``."""
    request, errors = build(form)
    trial = pb.SubmitMatchRequestRequest()
    trial.CopyFrom(request)
    for name in errors:
        if name in _HARMLESS:
            _HARMLESS[name](trial)
    for _ in range(MAX_ROUNDS):
        try:
            validate_request(request_in("req-check", trial), policy)
            check_consent(trial.consent, now)
            break
        except InvalidArgument as exc:
            name = form_field(exc.field) or "form"
            rule = exc.message.removeprefix(f"{exc.field}: ")
            if name in errors or name not in _HARMLESS:
                errors.setdefault(name, rule)
                break
            errors[name] = rule
            _HARMLESS[name](trial)
    return Checked(request, {name: errors[name] for name in LABELS if name in errors})


def build(form: FormData) -> tuple[pb.SubmitMatchRequestRequest, dict[str, str]]:
    """The request the form describes, and the fields that could not even be read."""
    errors: dict[str, str] = {}
    r = pb.SubmitMatchRequestRequest()
    p = r.participant
    p.participant_ref = _text(form, "participant_ref")
    p.age_band = _enum(pb.AgeBand, "AGE_BAND_", _text(form, "age_band"))
    p.time_zone = _text(form, "time_zone")
    p.availability.extend(windows(form.getlist("slot")))
    p.interpreter_needed = form.get("interpreter") == "yes"
    p.service_area = _text(form, "service_area")
    r.peer_types.extend(_enum(pb.PeerType, "PEER_TYPE_", str(v)) for v in form.getlist("peer_types"))
    for name in PREFERENCES:
        values = [v.strip() for v in _text(form, f"pref_{name}").split(",") if v.strip()]
        if values:
            pref = getattr(r.preferences, name)
            pref.values.extend(values)
            pref.strength = _strength(form, name)
    modalities = [_enum(pb.Modality, "MODALITY_", str(v)) for v in form.getlist("pref_modalities")]
    if modalities:
        r.preferences.modalities.values.extend(modalities)
        r.preferences.modalities.strength = _strength(form, "modalities")
    r.urgency = _enum(pb.Urgency, "URGENCY_", _text(form, "urgency"))
    for name in ("acuity", "session_minutes"):
        raw = _text(form, name)
        if raw.isdigit() and len(raw) < 7:
            setattr(r, name, int(raw))
        elif raw:
            errors[name] = "must be an integer"
    _consent(form, r, errors)
    return r, errors


def windows(slots: list[Any]) -> list[types_pb2.WeeklyWindow]:
    """Hour blocks ``"<day>-<hour>"`` (ISO day 1-7, hour 0-23) -> merged weekly windows."""
    hours: dict[int, set[int]] = {}
    for slot in slots:
        d, _, h = str(slot).partition("-")
        if d.isdigit() and h.isdigit() and int(d) in DAYS and int(h) in HOURS:
            hours.setdefault(int(d), set()).add(int(h))
    out: list[types_pb2.WeeklyWindow] = []
    for day in sorted(hours):
        run: list[int] = []
        for hour in sorted(hours[day]):
            if run and hour != run[-1] + 1:
                out.append(_window(day, run))
                run = []
            run.append(hour)
        out.append(_window(day, run))
    return out


def _window(day: int, run: list[int]) -> types_pb2.WeeklyWindow:
    weekday: Any = day  # an ISO day number is the proto's DayOfWeek number
    return types_pb2.WeeklyWindow(day=weekday, start_minute=run[0] * 60, end_minute=(run[-1] + 1) * 60)


def _consent(form: FormData, r: pb.SubmitMatchRequestRequest, errors: dict[str, str]) -> None:
    scope, form_ref = _text(form, "consent_scope"), _text(form, "consent_form_ref")
    recipients = [str(v) for v in form.getlist("consent_recipients")]
    expires = _text(form, "consent_expires")
    if not (scope or form_ref or recipients or expires):
        return
    c = r.consent
    c.scope, c.form_ref = scope, form_ref
    c.recipients.extend(recipients)
    if expires:
        try:
            day = date.fromisoformat(expires)
        except ValueError:
            errors["consent_expires"] = "must be a date"
            return
        c.expires_at.FromDatetime(datetime.combine(day, time(23, 59, 59), UTC))
    elif not c.ByteSize():
        r.ClearField("consent")


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _enum(proto_enum: Any, prefix: str, name: str) -> Any:
    """A form value such as ``ADULT`` -> its number; anything else -> -1 (the API calls it unknown)."""
    if not name:
        return 0
    try:
        return int(proto_enum.Value(prefix + name))
    except ValueError:
        return -1


def _strength(form: FormData, name: str) -> Any:
    return {"required": pb.STRENGTH_REQUIRED, "preferred": pb.STRENGTH_PREFERRED}.get(
        _text(form, f"pref_{name}_strength"), pb.STRENGTH_UNSPECIFIED
    )


# Labels in English; templates translate them with ``_()``.
LABELS = {
    "participant_ref": "Pseudonymous reference",
    "age_band": "Age band",
    "time_zone": "Time zone",
    "availability": "Weekly availability",
    "service_area": "Service area",
    "peer_types": "Peer types",
    "pref_languages": "Languages",
    "pref_gender": "Gender of the peer",
    "pref_cultures": "Cultures",
    "pref_lived_experience": "Lived experience",
    "pref_pathways": "Recovery pathways",
    "pref_modalities": "Ways to meet",
    "pref_service_area": "Peer's service area",
    "pref_certifications": "Certifications",
    "urgency": "Urgency",
    "acuity": "Acuity (caseload units)",
    "session_minutes": "Session length",
    "consent_scope": "Consent scope",
    "consent_recipients": "Who may receive the details",
    "consent_expires": "Consent expires on",
    "consent_form_ref": "Signed form reference",
    "form": "The form",
}
CHOICES = {
    "CHILD": "Child (under 12)", "YOUTH": "Youth (12-17)", "YOUNG_ADULT": "Young adult (18-25)",
    "ADULT": "Adult (26-64)", "OLDER_ADULT": "Older adult (65 and over)",
    "RECOVERY_COACH": "Recovery coach", "PEER_SPECIALIST": "Peer specialist", "PEER_NAVIGATOR": "Peer navigator",
    "YOUTH_PEER": "Youth peer", "FAMILY_PEER": "Family peer",
    "IN_PERSON": "In person", "PHONE": "Phone", "VIDEO": "Video", "TEXT": "Text messages",
    "ROUTINE": "Routine", "PRIORITY": "Priority", "URGENT": "Urgent",
    "assigned-peer": "The assigned peer", "programme": "The programme's staff and peers",
}
DAY_NAMES = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}
DAY_SHORT = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}
