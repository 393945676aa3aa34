"""Protobuf <-> domain for community groups and the offers made of them."""

from __future__ import annotations

from collections.abc import Iterable

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.matcher.domain import model as m
from alongside.matcher.domain.group_offers import Offer
from alongside.matcher.domain.groups import CommunityGroup, GroupAudience, GroupPathway
from alongside.matcher.mappers import enum_in, enum_out, enums_in, phrase_out, windows_in, windows_out


def group_in(g: pb.CommunityGroup, field: str = "group") -> CommunityGroup:
    pathway = enum_in(f"{field}.pathway", g.pathway, pb.GroupPathway, GroupPathway)
    assert pathway is not None
    return CommunityGroup(
        group_id=g.group_id,
        name=g.name,
        pathway=pathway,
        languages=frozenset(g.languages),
        modalities=enums_in(f"{field}.modalities", g.modalities, pb.Modality, m.Modality),
        area=g.area,
        time_zone=g.time_zone,
        meetings=windows_in(f"{field}.meetings", g.meetings),
        accessibility=g.accessibility,
        audiences=enums_in(f"{field}.audiences", g.audiences, pb.GroupAudience, GroupAudience),
        retired=g.retired,
    )


def group_out(g: CommunityGroup, *, version: int = 0) -> pb.CommunityGroup:
    return pb.CommunityGroup(
        group_id=g.group_id,
        name=g.name,
        pathway=enum_out(pb.GroupPathway, g.pathway),
        languages=sorted(g.languages),
        modalities=sorted(enum_out(pb.Modality, x) for x in g.modalities),
        area=g.area,
        time_zone=g.time_zone,
        meetings=windows_out(g.meetings),
        accessibility=g.accessibility,
        audiences=sorted(enum_out(pb.GroupAudience, a) for a in g.audiences),
        retired=g.retired,
        version=version,
    )


def pathways_in(values: Iterable[int]) -> frozenset[GroupPathway]:
    return enums_in("group_pathways", values, pb.GroupPathway, GroupPathway)


def apply_offers(state: pb.MatchRequest, offers: Iterable[Offer]) -> None:
    """Write the offers into ``state`` in order (filled in place: constructors copy)."""
    del state.group_offers[:]
    for offer in offers:
        out = state.group_offers.add(
            group_id=offer.group.group_id,
            name=offer.group.name,
            pathway=enum_out(pb.GroupPathway, offer.group.pathway),
            score=offer.score,
        )
        for x in offer.reasons:
            made = out.reasons.add(criterion=x.criterion, points=x.points, max_points=x.max_points, text=x.text)
            if x.phrase is not None:
                made.phrase.CopyFrom(phrase_out(x.phrase))
