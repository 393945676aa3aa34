"""``alongside intake``: submit a match request, show one, list the waiting list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.clients import idempotency_key
from alongside.cli.errors import CliError, handled
from alongside.cli.intake_file import file_field, load_file, request_from_doc
from alongside.cli.output import Output, label, to_dict, when
from alongside.cli.parsing import bad
from alongside.cli.state import IdempotencyKey, PageToken, session
from alongside.cli.views import peer_names, show_request

app = typer.Typer(help="Match requests: submit an intake, show it, list the waiting list.", no_args_is_help=True)


@app.command("submit")
@handled
def submit(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Intake YAML (docs/examples/intake.yaml).")] = None,
    ref: Annotated[str | None, typer.Option(help="Pseudonymous participant reference, never a name.")] = None,
    age_band: Annotated[str | None, typer.Option(help="child, youth, young_adult, adult, older_adult.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Participant's IANA time zone.")] = None,
    availability: Annotated[list[str] | None, typer.Option(help="e.g. 'mon 09:00-12:00'; repeat.")] = None,
    area: Annotated[str | None, typer.Option(help="Where the participant can meet in person.")] = None,
    interpreter: Annotated[
        bool | None,
        typer.Option("--interpreter/--no-interpreter", help="The participant needs an interpreter (or not)."),
    ] = None,
    peer_type: Annotated[list[str] | None, typer.Option(help="e.g. recovery_coach; repeat.")] = None,
    require: Annotated[list[str] | None, typer.Option(help="Hard constraint, e.g. languages=so; repeat.")] = None,
    prefer: Annotated[list[str] | None, typer.Option(help="Weighted wish, e.g. cultures=somali; repeat.")] = None,
    urgency: Annotated[str | None, typer.Option(help="routine, priority or urgent.")] = None,
    acuity: Annotated[int | None, typer.Option(help="Caseload units this participant uses.")] = None,
    session_minutes: Annotated[
        int | None, typer.Option(help="Length of one session in minutes; default 60.", show_default=False)
    ] = None,
    shortlist_size: Annotated[
        int | None,
        typer.Option(help="Candidates on the shortlist, 1 to 50; default the programme's.", show_default=False),
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Peer id with a conflict of interest; repeat.")] = None,
    group_pathway: Annotated[
        list[str] | None,
        typer.Option(help="A pathway the community groups offered should follow (e.g. smart_recovery); repeat."),
    ] = None,
    key: IdempotencyKey = None,
) -> None:
    """Submit an intake from a YAML file or flags (flags override the file).

    Prints the shortlist with each candidate's explanation, or why the request waits."""
    s = session(ctx)
    doc: dict[str, Any] = load_file(file) if file else {}
    person = {
        "ref": ref,
        "age_band": age_band,
        "time_zone": tz,
        "availability": availability,
        "service_area": area,
        "interpreter_needed": interpreter,
    }
    top = {
        "peer_types": peer_type,
        "urgency": urgency,
        "acuity": acuity,
        "session_minutes": session_minutes,
        "shortlist_size": shortlist_size,
        "excluded_peers": exclude,
        "group_pathways": group_pathway,
    }
    doc = merge_flags(doc, person, top, require or [], prefer or [])
    if not doc:
        raise bad(
            "intake",
            "give a YAML file (see docs/examples/intake.yaml) or flags such as --ref, --tz,"
            " --availability and --peer-type",
        )
    request = request_from_doc(doc, idempotency_key(key))
    try:
        reply = s.clients.matcher.call("SubmitMatchRequest", request).request
    except CliError as exc:
        raise in_file_terms(exc) from None
    render(s.out, reply, peer_names(s.clients.matcher, [c.peer_id for c in reply.candidates]), request)


def in_file_terms(error: CliError) -> CliError:
    """The matcher's field names in an INVALID_ARGUMENT message, as the intake file spells them."""
    prefix = "invalid input (INVALID_ARGUMENT): "
    if error.code != "INVALID_ARGUMENT" or not error.message.startswith(prefix):
        return error
    field, sep, rest = error.message[len(prefix) :].partition(":")
    if not sep:
        return error
    return CliError(f"{prefix}{file_field(field)}:{rest}", error.exit_code, error.code)


def merge_flags(
    doc: dict[str, Any], person: dict[str, Any], top: dict[str, Any], require: list[str], prefer: list[str]
) -> dict[str, Any]:
    """The file's document with every given flag laid over it."""
    out = dict(doc)
    participant = dict(out.get("participant") or {})
    participant.update({k: v for k, v in person.items() if v not in (None, [])})
    if participant or "participant" in out:
        out["participant"] = participant
    out.update({k: v for k, v in top.items() if v not in (None, [])})
    preferences = dict(out.get("preferences") or {})
    for flag, strength, items in (("--require", "required", require), ("--prefer", "preferred", prefer)):
        for item in items:
            name, _, values = item.partition("=")
            if not name.strip() or not values.strip():
                raise bad(flag, "must look like languages=so or cultures=somali,arab")
            split = [v.strip() for v in values.split(",") if v.strip()]
            preferences[name.strip()] = {"values": split, "strength": strength}
    if preferences:
        out["preferences"] = preferences
    return out


def render(out: Output, reply: pb.MatchRequest, names: dict[str, str], sent: pb.SubmitMatchRequestRequest) -> None:
    if out.json:
        out.emit({"participant_ref": sent.participant.participant_ref, "request": to_dict(reply)})
        return
    show_request(out, reply, names, sent.participant.participant_ref)
    if reply.status == pb.REQUEST_STATUS_SHORTLISTED:
        out.hint(f"Next: alongside match accept {reply.request_id} PEER   (or: alongside match decline ...)")
    elif reply.status == pb.REQUEST_STATUS_WAITLISTED:
        out.hint(
            "It waits on the waiting list: the matcher re-checks it when capacity frees up,"
            " and `alongside batch run` includes it."
        )


@app.command("show")
@handled
def show(ctx: typer.Context, request_id: Annotated[str, typer.Argument(help="Request id.")]) -> None:
    """A match request: its shortlist, its waiting-list reason or its match."""
    s = session(ctx)
    reply = s.clients.matcher.call("GetIntake", pb.GetIntakeRequest(request_id=request_id)).request
    if s.out.json:
        s.out.emit(to_dict(reply))
        return
    show_request(s.out, reply, peer_names(s.clients.matcher, [c.peer_id for c in reply.candidates]))


@app.command("waitlist")
@handled
def waitlist(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="At most this many; 0 for all.")] = 50,
    page_token: PageToken = "",
) -> None:
    """The waiting list, most urgent and longest waiting first, with the reason each waits."""
    s = session(ctx)
    request = pb.ListWaitlistRequest(page_token=page_token)
    listing = s.clients.matcher.page("ListWaitlist", request, "requests", max(limit, 0))
    requests = listing.items
    if s.out.json:
        s.out.emit(listing.json("requests", [to_dict(r) for r in requests]))
        return
    rows = [
        (r.request_id, label(pb.Urgency, r.urgency), when(r.created_at), r.waitlist_reason.summary) for r in requests
    ]
    s.out.table(listing.title("Waiting list"), ("request", "urgency", "since", "why it waits"), rows)
    if listing.hint():
        s.out.hint(listing.hint())
