"""``alongside policy``: the programme policy the matcher runs (docs/matcher.md)."""

from __future__ import annotations

import typer

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.cli.errors import handled
from alongside.cli.output import Output, label, labels, to_dict
from alongside.cli.state import session

app = typer.Typer(
    help="The programme policy: who may serve which ages, certification strengths, weights.", no_args_is_help=True
)


@app.command("show")
@handled
def show(ctx: typer.Context) -> None:
    """Print the effective programme policy of the matcher you are connected to, with its digest
    (the one each shortlist and batch reports). Needs a staff token."""
    s = session(ctx)
    policy = s.clients.matcher.call("GetPolicy", pb.GetPolicyRequest()).policy
    if s.out.json:
        s.out.emit(to_dict(policy))
        return
    print_policy(s.out, policy)


def print_policy(out: Output, policy: pb.ProgrammePolicy) -> None:
    out.pairs(
        f"Programme policy: {policy.programme}",
        [
            ("digest", policy.digest),
            ("source", policy.source),
            ("certification may be", " or ".join(label(pb.Strength, v) for v in policy.certification_strengths)),
            ("batch: per urgency step", f"{policy.batch_urgency_weight:g}"),
            ("batch: per week waited", f"{policy.batch_wait_weight_per_week:g}"),
        ],
    )
    rows = [
        (label(pb.PeerType, r.peer_type), labels(pb.AgeBand, r.age_bands), " or ".join(r.certifications) or "-")
        for r in policy.age_rules
    ]
    out.table("Who may serve which age bands", ("peer type", "age bands", "only holding"), rows)
    out.table(
        "Soft weights (points for a full match)",
        ("criterion", "weight"),
        [(w.criterion, f"{w.weight:g}") for w in policy.weights],
    )
