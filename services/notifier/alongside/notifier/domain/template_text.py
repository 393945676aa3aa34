"""The notification texts, keyed by (language, kind). Data only.

Rules for anyone adding a language or editing a line:

- Texts are generic. No participant name, health detail, programme or
  session type, ever: these go by email, SMS and webhook.
- The only placeholder is ``{when}``, a session's local date and time, and
  only in ``line_timed``. ``templates.render`` refuses any other.
- Every language must cover every kind (a unit test checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alongside.notifier.domain.model import Kind


@dataclass(frozen=True, slots=True)
class TemplateText:
    """One kind in one language. ``line_timed`` is used when a time is known."""

    subject: str
    line: str
    line_timed: str | None = None


@dataclass(frozen=True, slots=True)
class LanguagePack:
    """Per-language pieces shared by all kinds, and how to write a date."""

    footer: str
    settings_note: str
    when_format: str  # placeholders: weekday, day, month, time
    weekdays: tuple[str, ...]  # Monday first
    months: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.weekdays) != 7 or len(self.months) != 12:
            raise ValueError("a language pack needs 7 weekdays and 12 months")


DEFAULT_LANGUAGE = "en"

LANGUAGES: Mapping[str, LanguagePack] = {
    "en": LanguagePack(
        footer="Open Alongside to see the details.",
        settings_note="You can choose which notifications you receive in Alongside.",
        when_format="{weekday} {day} {month}, {time}",
        weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        months=("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    ),
    "es": LanguagePack(
        footer="Abre Alongside para ver los detalles.",
        settings_note="Puedes elegir qué avisos recibes en Alongside.",
        when_format="{weekday} {day} de {month} a las {time}",
        weekdays=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
        months=(
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ),
    ),
}

TEMPLATES: Mapping[tuple[str, Kind], TemplateText] = {
    ("en", Kind.ASSIGNMENT_NEW): TemplateText(
        subject="You have a new assignment in Alongside",
        line="You have a new assignment in Alongside.",
    ),
    ("en", Kind.SESSION_BOOKED): TemplateText(
        subject="A session has been booked",
        line="A session has been booked.",
        line_timed="A session has been booked for {when} (your time).",
    ),
    ("en", Kind.SESSION_RESCHEDULED): TemplateText(
        subject="A session has been rescheduled",
        line="A session has been rescheduled.",
        line_timed="A session has been moved to {when} (your time).",
    ),
    ("en", Kind.SESSION_CANCELLED): TemplateText(
        subject="A session has been cancelled",
        line="A session has been cancelled.",
        line_timed="The session on {when} (your time) has been cancelled.",
    ),
    ("en", Kind.SESSION_REMINDER): TemplateText(
        subject="Reminder: you have a session coming up",
        line="Reminder: you have a session coming up.",
        line_timed="Reminder: you have a session on {when} (your time).",
    ),
    ("en", Kind.MATCH_CLOSED): TemplateText(
        subject="An assignment has been closed",
        line="One of your assignments in Alongside has been closed.",
    ),
    ("en", Kind.CASELOAD_IMPORTED): TemplateText(
        subject="Your caseload was added to Alongside",
        line="Participants you already support were added to your caseload in Alongside.",
    ),
    ("en", Kind.GROUP_ENROLMENT): TemplateText(
        subject="Someone has joined your group",
        line="A participant has joined a group you host in Alongside.",
    ),
    ("en", Kind.GROUP_PROMOTED): TemplateText(
        subject="A place in your group has been filled",
        line="A place in a group you host was filled from the waiting list.",
    ),
    ("en", Kind.GROUP_REMINDER): TemplateText(
        subject="Reminder: your peer support group meets soon",
        line="Reminder: your peer support group meets soon.",
        line_timed="Reminder: your peer support group meets on {when} (your time).",
    ),
    ("es", Kind.ASSIGNMENT_NEW): TemplateText(
        subject="Tienes una nueva asignación en Alongside",
        line="Tienes una nueva asignación en Alongside.",
    ),
    ("es", Kind.SESSION_BOOKED): TemplateText(
        subject="Se ha reservado una sesión",
        line="Se ha reservado una sesión.",
        line_timed="Se ha reservado una sesión para el {when} (tu hora local).",
    ),
    ("es", Kind.SESSION_RESCHEDULED): TemplateText(
        subject="Se ha cambiado una sesión",
        line="Se ha cambiado la fecha de una sesión.",
        line_timed="Una sesión se ha trasladado al {when} (tu hora local).",
    ),
    ("es", Kind.SESSION_CANCELLED): TemplateText(
        subject="Se ha cancelado una sesión",
        line="Se ha cancelado una sesión.",
        line_timed="Se ha cancelado la sesión del {when} (tu hora local).",
    ),
    ("es", Kind.SESSION_REMINDER): TemplateText(
        subject="Recordatorio: tienes una sesión próximamente",
        line="Recordatorio: tienes una sesión próximamente.",
        line_timed="Recordatorio: tienes una sesión el {when} (tu hora local).",
    ),
    ("es", Kind.MATCH_CLOSED): TemplateText(
        subject="Se ha cerrado una asignación",
        line="Se ha cerrado una de tus asignaciones en Alongside.",
    ),
    ("es", Kind.CASELOAD_IMPORTED): TemplateText(
        subject="Tus casos se han añadido a Alongside",
        line="Las personas a las que ya acompañas se han añadido a tus casos en Alongside.",
    ),
    ("es", Kind.GROUP_ENROLMENT): TemplateText(
        subject="Alguien se ha unido a tu grupo",
        line="Una persona se ha unido a un grupo que facilitas en Alongside.",
    ),
    ("es", Kind.GROUP_PROMOTED): TemplateText(
        subject="Se ha ocupado una plaza de tu grupo",
        line="Una plaza de un grupo que facilitas se ha ocupado desde la lista de espera.",
    ),
    ("es", Kind.GROUP_REMINDER): TemplateText(
        subject="Recordatorio: tu grupo de apoyo entre pares se reúne pronto",
        line="Recordatorio: tu grupo de apoyo entre pares se reúne pronto.",
        line_timed="Recordatorio: tu grupo de apoyo entre pares se reúne el {when} (tu hora local).",
    ),
}
