"""The community-group directory and the offers at intake, through a real
matcher on real Valkey and NATS: import with per-row errors and a dry run,
list and read, bad input per field, offers with explanations in the intake
reply, a stated pathway honoured, the spread over pathways, and nothing
about the participant written beyond the request itself."""

from __future__ import annotations

import re

import grpc
import pytest

from alongside.api.common.v1 import types_pb2
from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.kit.testing.auth import channel

from .conftest import Matcher, intake, peer, upsert

HEADER = "group_id,name,pathway,languages,modalities,area,time_zone,meetings,accessibility,audiences\n"
TUE_10 = [types_pb2.WeeklyWindow(day=types_pb2.DAY_OF_WEEK_TUESDAY, start_minute=600, end_minute=660)]


def group(group_id: str, **overrides: object) -> pb.CommunityGroup:
    base: dict[str, object] = {
        "group_id": group_id,
        "name": f"Group {group_id}",
        "pathway": pb.GROUP_PATHWAY_TWELVE_STEP,
        "languages": ["en"],
        "modalities": [pb.MODALITY_VIDEO],
        "time_zone": "America/New_York",
        "meetings": TUE_10,
    }
    base.update(overrides)
    return pb.CommunityGroup(**base)  # type: ignore[arg-type]


async def put(m: Matcher, *groups: pb.CommunityGroup) -> None:
    for g in groups:
        await m.stub.UpsertGroup(pb.UpsertGroupRequest(idempotency_key=f"ug-{g.group_id}", group=g))


async def refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call  # type: ignore[misc]
    return info.value


async def test_import_checks_each_row_and_a_dry_run_stores_nothing(matcher: Matcher) -> None:
    csv = (HEADER
           + "gi-1,Tuesday Fellowship,twelve_step,en,video,,America/New_York,tue 10:00-11:00,,\n"
           + "gi-2,Hall Group,smart_recovery,en;es,in_person,Kent,America/New_York,thu 18:00-19:00,Step-free,adults\n"
           + "gi-3,Bad Zone,recovery_dharma,en,video,,Mars/Base,tue 10:00-11:00,,\n"
           + "gi-4,Bad Way,peer_led,en,text,,UTC,tue 10:00-11:00,,\n").encode()
    dry = await matcher.stub.ImportGroups(pb.ImportGroupsRequest(idempotency_key="gi-dry", csv=csv, dry_run=True))
    assert dry.imported == 2 and [(e.line, e.field) for e in dry.errors] == [(4, "time_zone"), (5, "modalities")]
    assert not (await matcher.stub.ListGroups(pb.ListGroupsRequest())).groups
    done = await matcher.stub.ImportGroups(pb.ImportGroupsRequest(idempotency_key="gi-1", csv=csv))
    assert done.imported == 2 and len(done.errors) == 2
    listed = await matcher.stub.ListGroups(pb.ListGroupsRequest())
    assert [g.group_id for g in listed.groups] == ["gi-1", "gi-2"]
    hall = (await matcher.stub.GetGroup(pb.GetGroupRequest(group_id="gi-2"))).group
    assert hall.area == "kent" and hall.languages == ["en", "es"] and hall.version == 1
    assert list(hall.audiences) == [pb.GROUP_AUDIENCE_ADULTS] and hall.accessibility == "Step-free"
    again = await matcher.stub.ImportGroups(pb.ImportGroupsRequest(idempotency_key="gi-1", csv=csv))
    assert again == done
    bad = await refused(matcher.stub.ImportGroups(pb.ImportGroupsRequest(idempotency_key="gi-x", csv=b"name\nx\n")))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and "csv" in (bad.details() or "")


async def test_list_filters_pages_and_leaves_retired_groups_out(matcher: Matcher) -> None:
    await put(matcher, *(group(f"gl-{i}", pathway=pb.GROUP_PATHWAY_SMART_RECOVERY if i % 2 else
                               pb.GROUP_PATHWAY_TWELVE_STEP) for i in range(5)))
    await put(matcher, group("gl-9", retired=True), group("gl-es", languages=["es"]))
    first = await matcher.stub.ListGroups(pb.ListGroupsRequest(page_size=2))
    second = await matcher.stub.ListGroups(pb.ListGroupsRequest(page_size=10, page_token=first.next_page_token))
    assert [g.group_id for g in [*first.groups, *second.groups]] == ["gl-0", "gl-1", "gl-2", "gl-3", "gl-4", "gl-es"]
    smart = await matcher.stub.ListGroups(pb.ListGroupsRequest(pathway=pb.GROUP_PATHWAY_SMART_RECOVERY))
    assert [g.group_id for g in smart.groups] == ["gl-1", "gl-3"]
    spanish = await matcher.stub.ListGroups(pb.ListGroupsRequest(language="ES"))
    assert [g.group_id for g in spanish.groups] == ["gl-es"]
    every = await matcher.stub.ListGroups(pb.ListGroupsRequest(include_retired=True))
    assert "gl-9" in [g.group_id for g in every.groups]
    token = await refused(matcher.stub.ListGroups(pb.ListGroupsRequest(page_token="junk")))
    assert token.code() == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in (token.details() or "")
    missing = await refused(matcher.stub.GetGroup(pb.GetGroupRequest(group_id="gl-none")))
    assert missing.code() == grpc.StatusCode.NOT_FOUND


async def test_list_filters_by_way_of_meeting_and_audience(matcher: Matcher) -> None:
    await put(
        matcher,
        group("ga-1", modalities=[pb.MODALITY_IN_PERSON, pb.MODALITY_PHONE], area="kent"),
        group("ga-2", audiences=[pb.GROUP_AUDIENCE_WOMEN, pb.GROUP_AUDIENCE_LGBTQ]),
        group("ga-3", audiences=[pb.GROUP_AUDIENCE_YOUNG_PEOPLE]),
    )
    phone = await matcher.stub.ListGroups(pb.ListGroupsRequest(modality=pb.MODALITY_PHONE))
    assert [g.group_id for g in phone.groups] == ["ga-1"]
    video = await matcher.stub.ListGroups(pb.ListGroupsRequest(modality=pb.MODALITY_VIDEO))
    assert [g.group_id for g in video.groups] == ["ga-2", "ga-3"]
    lgbtq = await matcher.stub.ListGroups(pb.ListGroupsRequest(audience=pb.GROUP_AUDIENCE_LGBTQ))
    assert [g.group_id for g in lgbtq.groups] == ["ga-2"]
    adults = await matcher.stub.ListGroups(pb.ListGroupsRequest(audience=pb.GROUP_AUDIENCE_ADULTS))
    assert [g.group_id for g in adults.groups] == ["ga-1"], "naming no audience means adults"
    bad = await refused(matcher.stub.ListGroups(pb.ListGroupsRequest(audience=99)))  # type: ignore[arg-type]
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and (bad.details() or "").startswith("audience")
    bad = await refused(matcher.stub.ListGroups(pb.ListGroupsRequest(modality=99)))  # type: ignore[arg-type]
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and (bad.details() or "").startswith("modality")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"group_id": "has space"}, "group.group_id"),
        ({"name": ""}, "group.name"),
        ({"pathway": pb.GROUP_PATHWAY_UNSPECIFIED}, "group.pathway"),
        ({"pathway": 99}, "group.pathway"),
        ({"languages": []}, "group.languages"),
        ({"languages": ["english!"]}, "group.languages"),
        ({"modalities": [pb.MODALITY_TEXT]}, "group.modalities"),
        ({"modalities": [pb.MODALITY_IN_PERSON]}, "group.area"),
        ({"time_zone": "Nowhere/Else"}, "group.time_zone"),
        ({"meetings": []}, "group.meetings"),
        ({"meetings": [types_pb2.WeeklyWindow(day=types_pb2.DAY_OF_WEEK_TUESDAY, start_minute=700, end_minute=600)]},
         "group.meetings[0]"),
        ({"meetings": [types_pb2.WeeklyWindow(day=0, start_minute=600, end_minute=660)]}, "group.meetings[0].day"),
        ({"audiences": [42]}, "group.audiences[0]"),
        ({"accessibility": "x" * 501}, "group.accessibility"),
    ],
)
async def test_bad_input_names_the_field(matcher: Matcher, changes: dict[str, object], field: str) -> None:
    bad = group(**{"group_id": "gb-1", **changes})  # type: ignore[arg-type]
    err = await refused(matcher.stub.UpsertGroup(pb.UpsertGroupRequest(idempotency_key="gb", group=bad)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (err.details() or "").startswith(f"{field}:") or (err.details() or "").startswith(f"{field} "), err.details()


async def test_intake_staff_read_the_directory_and_only_managers_write_it(matcher: Matcher) -> None:
    await put(matcher, group("gr-1"))
    async with channel(f"127.0.0.1:{matcher.runtime.port}", role="intake", subject="gr-staff") as chan:
        stub = matcher_pb2_grpc.MatcherServiceStub(chan)
        assert (await stub.GetGroup(pb.GetGroupRequest(group_id="gr-1"))).group.name == "Group gr-1"
        denied = await refused(stub.UpsertGroup(pb.UpsertGroupRequest(idempotency_key="gr-2", group=group("gr-2"))))
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_intake_reply_offers_groups_of_three_pathways_with_explanations(matcher: Matcher) -> None:
    await upsert(matcher, peer("go-p1"))
    await put(matcher, *(group(f"go-a{i}", languages=["en", "es"]) for i in range(3)),
              group("go-b", pathway=pb.GROUP_PATHWAY_SMART_RECOVERY),
              group("go-c", pathway=pb.GROUP_PATHWAY_MEDICATION_ASSISTED),
              group("go-late", pathway=pb.GROUP_PATHWAY_RECOVERY_DHARMA,
                    meetings=[types_pb2.WeeklyWindow(day=types_pb2.DAY_OF_WEEK_TUESDAY, start_minute=1200,
                                                     end_minute=1260)]),
              group("go-old", pathway=pb.GROUP_PATHWAY_PEER_LED, retired=True))
    prefs = pb.Preferences(languages=pb.Preference(values=["es"], strength=pb.STRENGTH_PREFERRED))
    reply = await matcher.stub.SubmitMatchRequest(intake("go-1", preferences=prefs))
    offers = reply.request.group_offers
    assert [o.group_id for o in offers] == ["go-a0", "go-b", "go-c"]
    assert len({o.pathway for o in offers}) == 3
    assert offers[0].reasons[0].text.startswith("Follows a twelve-step fellowship; offered beside other pathways")
    assert "Meets in Spanish (preferred language)" in [r.text for r in offers[0].reasons]
    assert all(r.phrase.template for o in offers for r in o.reasons)
    stored = await matcher.stub.GetIntake(pb.GetIntakeRequest(request_id=reply.request.request_id))
    assert list(stored.request.group_offers) == list(offers)


async def test_a_stated_pathway_is_honoured_over_better_fitting_groups(matcher: Matcher) -> None:
    await upsert(matcher, peer("gp-p1"))
    great = {"languages": ["es"], "modalities": [pb.MODALITY_PHONE, pb.MODALITY_VIDEO]}
    await put(matcher, *(group(f"gp-x{i}", pathway=pw, **great) for i, pw in enumerate(
        (pb.GROUP_PATHWAY_TWELVE_STEP, pb.GROUP_PATHWAY_SMART_RECOVERY, pb.GROUP_PATHWAY_PEER_LED))),
        group("gp-dharma", pathway=pb.GROUP_PATHWAY_RECOVERY_DHARMA))
    prefs = pb.Preferences(languages=pb.Preference(values=["es"], strength=pb.STRENGTH_PREFERRED),
                           modalities=pb.ModalityPreference(values=[pb.MODALITY_PHONE], strength=pb.STRENGTH_PREFERRED))
    reply = await matcher.stub.SubmitMatchRequest(
        intake("gp-1", preferences=prefs, group_pathways=[pb.GROUP_PATHWAY_RECOVERY_DHARMA]))
    (offer,) = reply.request.group_offers
    assert offer.group_id == "gp-dharma"
    assert offer.reasons[0].text == "Follows Recovery Dharma, a pathway the participant asked for"
    bad = await refused(matcher.stub.SubmitMatchRequest(intake("gp-2", group_pathways=[pb.GROUP_PATHWAY_PEER_LED, 77])))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and (bad.details() or "").startswith("group_pathways[1]")


def _shape(key: str) -> str:
    """A key with its ids and digests taken out: what kind of record it is."""
    return re.sub(r"[0-9a-f]{16,}|req[-_][\w-]+|ref-[\w-]+|gk-\d|\d{6,}", "*", key)


async def test_an_offer_writes_nothing_about_the_participant_beyond_the_request(matcher: Matcher) -> None:
    deps = matcher.runtime.deps
    assert deps is not None
    r = deps.redis

    async def snapshot() -> dict[str, object]:
        """Every key of this matcher; the directory's with their values."""
        out: dict[str, object] = {}
        async for key in r.scan_iter(match=f"{matcher.namespace}*"):
            name = key.decode()
            if "group" not in name:
                out[name] = None
            elif name.endswith(":groups"):  # the ids (a sorted set); the others are strings
                out[name] = await r.zrange(key, 0, -1, withscores=True)
            else:
                out[name] = await r.get(key)
        return out

    await upsert(matcher, peer("gk-p1"))
    await matcher.stub.SubmitMatchRequest(intake("gk-0"))  # the first intake makes the shared indexes
    await matcher.drained()
    before_any = set(await snapshot())
    await matcher.stub.SubmitMatchRequest(intake("gk-1"))
    await matcher.drained()
    without_groups = {_shape(k) for k in set(await snapshot()) - before_any}

    await put(matcher, group("gk-g1"), group("gk-g2", pathway=pb.GROUP_PATHWAY_SMART_RECOVERY))
    groups_before = {k: v for k, v in (await snapshot()).items() if "group" in k}
    before = set(await snapshot())
    reply = await matcher.stub.SubmitMatchRequest(intake("gk-2"))
    assert len(reply.request.group_offers) == 2
    await matcher.drained()
    after = await snapshot()
    assert {_shape(k) for k in set(after) - before} == without_groups  # the same records as an intake without offers
    assert {k: v for k, v in after.items() if "group" in k} == groups_before  # the directory is untouched
