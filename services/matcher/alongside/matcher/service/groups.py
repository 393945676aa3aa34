"""Community-group directory use cases: upsert, read, list, import a CSV.

Writes are one transaction each (with their idempotency record), as the
roster's are. The directory holds no participant data and emits no events:
nothing outside the matcher reads it.
"""

from __future__ import annotations

import asyncio

from alongside.api.matcher.v1 import matcher_pb2 as pb
from alongside.kit import paging
from alongside.kit.errors import InvalidArgument, NotFound
from alongside.kit.ids import check_id, is_id
from alongside.kit.uow import Tx
from alongside.matcher.adapters.group_store import GroupStore
from alongside.matcher.domain.groups import CommunityGroup, validate_group
from alongside.matcher.group_mappers import group_in, group_out
from alongside.matcher.service.context import Context, idem, parse_reply
from alongside.matcher.service.group_csv import parse_groups
from alongside.matcher.service.queries import page_size

MAX_IMPORT_BYTES = 2 * 1024 * 1024
LIST = "groups"  # the list page tokens are issued for


class Groups:
    def __init__(self, ctx: Context, store: GroupStore) -> None:
        self.ctx, self.store = ctx, store

    def _stage(self, tx: Tx, group: CommunityGroup, previous: pb.CommunityGroup | None) -> pb.CommunityGroup:
        stored = group_out(group, version=(previous.version if previous else 0) + 1)
        self.store.put(tx.pipe, stored)
        return stored

    async def upsert(self, req: pb.UpsertGroupRequest) -> pb.UpsertGroupResponse:
        key = idem("UpsertGroup", req.idempotency_key, req)
        group = validate_group(group_in(req.group), prefix="group.")

        async def body(tx: Tx) -> bytes:
            await tx.watch(self.store.key(group.group_id))
            previous = await self.store.group(group.group_id, via=tx.pipe)
            tx.begin()
            return pb.UpsertGroupResponse(group=self._stage(tx, group, previous)).SerializeToString()

        return parse_reply(pb.UpsertGroupResponse, await self.ctx.uow.run(body, idempotency=key))

    async def get(self, group_id: str) -> pb.CommunityGroup:
        found = await self.store.group(check_id("group_id", group_id))
        if found is None:
            raise NotFound("group not found")
        return found

    async def list(self, req: pb.ListGroupsRequest) -> pb.ListGroupsResponse:
        size = page_size(req.page_size)
        if req.pathway and req.pathway not in pb.GroupPathway.values():
            raise InvalidArgument("pathway", "is not a known value")
        if req.modality and req.modality not in pb.Modality.values():
            raise InvalidArgument("modality", "is not a known value")
        if req.audience and req.audience not in pb.GroupAudience.values():
            raise InvalidArgument("audience", "is not a known value")
        after = paging.position(LIST, req.page_token)
        if after and not is_id(after):
            raise InvalidArgument("page_token", "is not a token this service issued")
        out: list[pb.CommunityGroup] = []
        while len(out) < size:
            ids = await self.store.ids(after=after, limit=size * 2)
            if not ids:
                after = ""
                break
            found = await self.store.groups_by_id(ids)
            for group_id in ids:
                group = found.get(group_id)
                if group is not None and _matches(group, req):
                    out.append(group)
                after = group_id
                if len(out) == size:
                    break
        more = bool(after) and bool(await self.store.ids(after=after, limit=1))
        return pb.ListGroupsResponse(groups=out, next_page_token=paging.issue(LIST, after) if more else "")

    async def import_groups(self, req: pb.ImportGroupsRequest) -> pb.ImportGroupsResponse:
        key = idem("ImportGroups", req.idempotency_key, req)
        if len(req.csv) > MAX_IMPORT_BYTES:
            raise InvalidArgument("csv", f"must be at most {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
        groups, errors = await asyncio.to_thread(parse_groups, req.csv)
        if req.dry_run:
            return pb.ImportGroupsResponse(imported=len(groups), errors=errors)

        async def body(tx: Tx) -> bytes:
            keys = [self.store.key(g.group_id) for g in groups]
            if keys:
                await tx.watch(*keys)
            previous = await self.store.groups_by_id([g.group_id for g in groups], via=tx.pipe)
            tx.begin()
            for group in groups:
                self._stage(tx, group, previous.get(group.group_id))
            return pb.ImportGroupsResponse(imported=len(groups), errors=errors).SerializeToString()

        return parse_reply(pb.ImportGroupsResponse, await self.ctx.uow.run(body, idempotency=key))


def _matches(group: pb.CommunityGroup, req: pb.ListGroupsRequest) -> bool:
    return (
        (req.include_retired or not group.retired)
        and (not req.pathway or req.pathway == group.pathway)
        and (not req.language or req.language.strip().lower() in group.languages)
        and (not req.area or "_".join(req.area.split()).lower() == group.area)
        and (not req.modality or req.modality in group.modalities)
        and (not req.audience or req.audience in (group.audiences or [pb.GROUP_AUDIENCE_ADULTS]))
    )
