"""The demo's journey, step by step, through the services' gRPC APIs only.

Each step prints a heading, one sentence on what a programme would be doing,
and the services' own answers. ``facts`` collects the numbers for the
summary. Ids and idempotency keys are unique per run, so the demo can run
again against the same services.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.cli.demo_data import DemoData, roster_csv
from alongside.cli.demo_directory import groups_csv
from alongside.cli.demo_intakes import DemoIntake
from alongside.cli.errors import CliError
from alongside.cli.intake_file import request_from_doc
from alongside.cli.output import label
from alongside.cli.roster import send_roster
from alongside.cli.roster_file import split_roster
from alongside.cli.state import Session
from alongside.cli.views import peer_names, show_matches, show_request

KIND_ORDER = ("urgent", "youth", "family", "routine")


@dataclass
class Submitted:
    intake: DemoIntake
    request: pb.MatchRequest


@dataclass
class Journey:
    s: Session
    data: DemoData
    key: str
    wait_s: float
    submitted: list[Submitted] = field(default_factory=list)
    accepted: list[tuple[DemoIntake, pb.Match]] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)
    featured_email: str = ""

    def step(self, number: int, title: str, what: str) -> None:
        self.s.out.text("")
        self.s.out.heading(f"{number}. {title}")
        self.s.out.text(what, style="italic")

    def load_roster(self) -> None:
        peers = self.data.peers
        self.step(1, "Load the roster", f"A programme imports its {len(peers)} peers from a CSV file (all fictional).")
        split = split_roster(roster_csv(peers), 100)
        imported, problems = send_roster(self.s, split, f"{self.key}:roster", False, "demo roster")
        types = Counter(label(pb.PeerType, pb.PeerType.Value("PEER_TYPE_" + t.upper())) for p in peers for t in p.types)
        languages = Counter(language for p in peers for language in p.languages)
        self.s.out.text(f"Imported {imported} of {split.rows} peers ({len(problems)} rejected).")
        self.s.out.table("Peers by type", ("type", "peers"), types.most_common())
        self.s.out.table(
            "Languages spoken (ase = American Sign Language)", ("language", "peers"), languages.most_common()
        )
        self.facts.update(peers_imported=imported, peers_rejected=len(problems))
        request = pb.ImportGroupsRequest(idempotency_key=f"{self.key}:groups", csv=groups_csv().encode())
        groups = self.s.clients.matcher.call("ImportGroups", request)
        self.s.out.text(f"And the {groups.imported} community groups it refers participants to, across pathways.")
        self.facts["groups_imported"] = groups.imported

    def submit_intakes(self) -> None:
        intakes = self.data.intakes
        self.step(
            2,
            "Submit intakes",
            f"Intake staff submit {len(intakes)} match requests. Each gets a ranked shortlist"
            " with reasons, or a place on the waiting list with the reason why.",
        )
        matcher = self.s.clients.matcher
        with self.s.out.progress() as progress:
            task = progress.add_task("submitting intakes", total=len(intakes))
            for intake in intakes:
                request = request_from_doc(intake.doc, f"{self.key}:intake:{intake.number}")
                self.submitted.append(Submitted(intake, matcher.call("SubmitMatchRequest", request).request))
                progress.advance(task)
        rows = [
            (x.intake.ref, x.intake.kind, label(pb.Urgency, x.request.urgency), _outcome(x.request))
            for x in self.submitted
        ]
        self.s.out.table("Intakes", ("participant", "case", "urgency", "outcome"), rows)
        shortlisted = [x for x in self.submitted if x.request.status == pb.REQUEST_STATUS_SHORTLISTED]
        waiting = [x for x in self.submitted if x.request.status == pb.REQUEST_STATUS_WAITLISTED]
        if shortlisted:
            self.s.out.text(
                "One shortlist in full: the participant chooses from it, and from the community"
                " groups offered beside it (different pathways, none pushed).",
                style="bold",
            )
            first = next((x for x in shortlisted if len(x.request.group_offers) > 1), shortlisted[0])
            names = peer_names(matcher, [c.peer_id for c in first.request.candidates])
            show_request(self.s.out, first.request, names, first.intake.ref)
        if waiting:
            self.s.out.text("And one that waits: the answer names the check that emptied the list.", style="bold")
            show_request(self.s.out, waiting[0].request, {}, waiting[0].intake.ref)
        self.facts.update(intakes=len(intakes), shortlisted=len(shortlisted), waitlisted=len(waiting))
        self.facts["offered_groups"] = sum(1 for x in self.submitted if x.request.group_offers)

    def accept(self, how_many: int) -> None:
        self.step(
            3,
            "Accept",
            "With the participant, staff accept the candidate they chose (here: the top one)."
            " Accepting reserves the peer's capacity atomically.",
        )
        for chosen in _pick(self.submitted, how_many):
            match = self._accept_first_free(chosen, featured=not self.accepted)
            if match is not None:
                self.accepted.append((chosen.intake, match))
        matches = [m for _, m in self.accepted]
        show_matches(self.s.out, "Accepted", matches, peer_names(self.s.clients.matcher, [m.peer_id for m in matches]))
        self.facts["accepted"] = len(matches)

    def _accept_first_free(self, chosen: Submitted, featured: bool) -> pb.Match | None:
        """The top candidate, or the next if the top one filled up in the meantime."""
        for candidate in chosen.request.candidates:
            if featured:
                self._contact_by_email(candidate.peer_id)
            request = pb.AcceptMatchRequest(
                idempotency_key=f"{self.key}:accept:{chosen.intake.number}",
                request_id=chosen.request.request_id,
                peer_id=candidate.peer_id,
            )
            try:
                match: pb.Match = self.s.clients.matcher.call("AcceptMatch", request).match
            except CliError as exc:
                self.s.out.text(f"{candidate.peer_id} could not be accepted ({exc.message}); trying the next")
                continue
            return match
        return None

    def _contact_by_email(self, peer_id: str) -> None:
        """The first peer also wants email: its address is fictional (example.org never delivers)."""
        peer = self.s.clients.matcher.call("GetPeer", pb.GetPeerRequest(peer_id=peer_id)).peer
        self.featured_email = f"{peer_id}@example.org"
        prefs = npb.ContactPreferences(
            peer_id=peer_id,
            language="en",
            time_zone=peer.time_zone,
            channels=[npb.CHANNEL_INBOX, npb.CHANNEL_EMAIL],
            email=self.featured_email,
        )
        request = npb.SetContactPreferencesRequest(idempotency_key=f"{self.key}:prefs:{peer_id}", preferences=prefs)
        try:
            self.s.clients.notifier.call("SetContactPreferences", request)
        except CliError as exc:
            self.s.out.text(f"could not set email for {peer_id}: {exc.message}")
            self.featured_email = ""


def _outcome(request: pb.MatchRequest) -> str:
    if request.status == pb.REQUEST_STATUS_WAITLISTED:
        return f"waits: {request.waitlist_reason.summary}"
    count = len(request.candidates)
    top = request.candidates[0].peer_id if count else "-"
    return f"{count} candidate{'' if count == 1 else 's'}, top {top}"


def _pick(submitted: list[Submitted], how_many: int) -> list[Submitted]:
    """One of each kind of case first (urgent, youth, family), then the rest in order."""
    open_ = [x for x in submitted if x.request.status == pb.REQUEST_STATUS_SHORTLISTED]
    firsts = [next((x for x in open_ if x.intake.kind == kind), None) for kind in KIND_ORDER]
    ordered = [x for x in firsts if x is not None]
    ordered += [x for x in open_ if x not in ordered]
    return ordered[: max(how_many, 0)]
