"""The intake page shows the community groups offered, in the page's language."""

from __future__ import annotations

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.console import i18n, views

FOLLOWS = "Follows {pathway}; offered beside other pathways for the participant to choose"


def fragment(state: mpb.MatchRequest) -> str:
    page = views.env.get_template("intake_request.html")
    values = {"state": state, "names": {}, "status_name": mpb.RequestStatus.Name(state.status), "empty_step": -1,
              "csrf_token": "t"}
    return "".join(page.blocks["shortlist"](page.new_context(values)))


def offered() -> mpb.MatchRequest:
    state = mpb.MatchRequest(request_id="req-1", status=mpb.REQUEST_STATUS_WAITLISTED)
    offer = state.group_offers.add(group_id="g-1", name="Tuesday Fellowship", pathway=mpb.GROUP_PATHWAY_TWELVE_STEP)
    reason = offer.reasons.add(criterion="pathway", text="Follows SMART Recovery; offered beside other pathways for"
                               " the participant to choose")
    reason.phrase.template = FOLLOWS
    reason.phrase.args.add(name="pathway", values=["SMART Recovery"], kind="text")
    return state


def test_the_offers_are_listed_with_their_reasons_in_english_and_spanish() -> None:
    i18n.load()
    page = fragment(offered())
    assert "Community groups" in page and '<a href="/groups/g-1">Tuesday Fellowship</a>' in page, "links the directory"
    assert "Follows SMART Recovery; offered beside other pathways" in page
    i18n.activate("es")
    try:
        spanish = fragment(offered())
    finally:
        i18n.activate("en")
    assert "Grupos comunitarios" in spanish
    assert "Sigue SMART Recovery; se ofrece junto a otros enfoques" in spanish


def test_no_offers_no_section() -> None:
    assert "Community groups" not in fragment(mpb.MatchRequest(request_id="r", status=mpb.REQUEST_STATUS_WAITLISTED))
