"""How match requests, matches and sessions read on screen (shared by commands and the demo)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.cli.clients import Service
from alongside.cli.errors import CliError
from alongside.cli.output import Output, label, local, when


def peer_names(matcher: Service, peer_ids: Iterable[str]) -> dict[str, str]:
    """Display names for staff; a peer that cannot be read just shows its id."""
    names: dict[str, str] = {}
    for peer_id in dict.fromkeys(peer_ids):
        try:
            names[peer_id] = matcher.call("GetPeer", pb.GetPeerRequest(peer_id=peer_id)).peer.display_name
        except CliError:
            names[peer_id] = ""
    return names


def why(candidate: pb.Candidate | pb.GroupOffer) -> str:
    """One line per reason: requirements met, then the weighed criteria with their points."""
    lines = []
    reasons = candidate.reasons if isinstance(candidate, pb.GroupOffer) else candidate.contributions
    for c in reasons:
        points = f"+{c.points:.1f} " if c.max_points else "✔ "
        lines.append(points + c.text)
    return "\n".join(lines)


def show_request(out: Output, request: pb.MatchRequest, names: Mapping[str, str], ref: str = "") -> None:
    """The shortlist with explanations, or the waiting-list reason and its funnel."""
    who = f" for {ref}" if ref else ""
    status = label(pb.RequestStatus, request.status)
    out.text(f"Request {request.request_id}{who}: {status} ({label(pb.Urgency, request.urgency)})", style="bold")
    if request.status == pb.REQUEST_STATUS_WAITLISTED:
        out.text(f"No peer fits yet: {request.waitlist_reason.summary}")
        funnel = [(c.text or c.constraint,) for c in request.waitlist_reason.funnel]
        out.table("How the roster narrowed (each step keeps the peers who pass it)", ("check",), funnel)
        show_offers(out, request)
        return
    if request.status == pb.REQUEST_STATUS_MATCHED:
        out.text(f"Matched: {request.match_id}")
        return
    rows = [
        (i, c.peer_id, names.get(c.peer_id, ""), f"{c.score:.1f}", why(c))
        for i, c in enumerate(request.candidates, start=1)
    ]
    out.table("Shortlist: the participant chooses", ("#", "peer", "name", "score", "why this peer"), rows)
    if request.declined_peer_ids:
        out.text(f"Declined so far: {', '.join(request.declined_peer_ids)}", style="dim")
    show_offers(out, request)


def show_offers(out: Output, request: pb.MatchRequest) -> None:
    """The community groups offered beside the shortlist, each with why it fits."""
    if not request.group_offers:
        return
    rows = [
        (i, o.group_id, o.name, label(pb.GroupPathway, o.pathway), why(o))
        for i, o in enumerate(request.group_offers, start=1)
    ]
    out.table(
        "Community groups offered: the participant may choose any, or none",
        ("#", "group", "name", "pathway", "why this group"),
        rows,
    )


def show_matches(out: Output, title: str, matches: Sequence[pb.Match], names: Mapping[str, str]) -> None:
    rows = [
        (
            m.match_id,
            m.request_id,
            m.participant_ref,
            m.peer_id,
            names.get(m.peer_id, ""),
            m.acuity,
            label(pb.MatchStatus, m.status),
            when(m.accepted_at),
            label(pb.CloseReason, m.close_reason) if m.close_reason else "",
        )
        for m in matches
    ]
    columns = ("match", "request", "participant", "peer", "name", "acuity", "status", "accepted", "closed as")
    out.table(title, columns, rows)


def show_sessions(out: Output, title: str, sessions: Sequence[spb.Session]) -> None:
    rows = [
        (
            x.session_id,
            local(x.peer_local_start),
            local(x.participant_local_start),
            x.peer_id,
            x.participant_ref,
            x.session_type,
            label(spb.SessionStatus, x.status),
            f"#{x.occurrence}" if x.series_id else "",
        )
        for x in sessions
    ]
    columns = ("session", "peer's time", "participant's time", "peer", "participant", "type", "status", "series")
    out.table(title, columns, rows)
