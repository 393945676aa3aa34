"""gRPC servicer for the notifier: maps protobuf to use cases and back."""

from __future__ import annotations

from collections.abc import AsyncIterator

from grpc import aio

from alongside.api.notifier.v1 import notifier_pb2 as pb
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.kit.errors import InvalidArgument
from alongside.notifier.entrypoints.access import require_own
from alongside.notifier.entrypoints.mappers import (
    api_error,
    draft_from_proto,
    notification_to_proto,
    prefs_to_proto,
)
from alongside.notifier.service.inbox import Inbox
from alongside.notifier.service.preferences import Preferences


class NotifierServicer(notifier_pb2_grpc.NotifierServiceServicer):
    def __init__(self, preferences: Preferences, inbox: Inbox) -> None:
        self._preferences, self._inbox = preferences, inbox

    async def SetContactPreferences(
        self, request: pb.SetContactPreferencesRequest, context: aio.ServicerContext
    ) -> pb.SetContactPreferencesResponse:
        require_own(request.preferences.peer_id)
        draft = draft_from_proto(request.preferences)
        try:
            prefs = await self._preferences.set(
                draft, request.idempotency_key, request.SerializeToString(deterministic=True)
            )
        except InvalidArgument as exc:
            raise api_error(exc) from None
        return pb.SetContactPreferencesResponse(preferences=prefs_to_proto(prefs))

    async def GetContactPreferences(
        self, request: pb.GetContactPreferencesRequest, context: aio.ServicerContext
    ) -> pb.GetContactPreferencesResponse:
        require_own(request.peer_id)
        prefs = await self._preferences.get(request.peer_id)
        return pb.GetContactPreferencesResponse(preferences=prefs_to_proto(prefs))

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: aio.ServicerContext
    ) -> pb.ListNotificationsResponse:
        require_own(request.peer_id)
        page = await self._inbox.list(
            request.peer_id,
            unread_only=request.unread_only,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListNotificationsResponse(
            notifications=[notification_to_proto(item) for item in page.items],
            next_page_token=page.next_token,
        )

    async def Acknowledge(self, request: pb.AcknowledgeRequest, context: aio.ServicerContext) -> pb.AcknowledgeResponse:
        require_own(request.peer_id)
        count = await self._inbox.acknowledge(
            request.peer_id,
            list(request.notification_ids),
            request.idempotency_key,
            request.SerializeToString(deterministic=True),
        )
        return pb.AcknowledgeResponse(acknowledged=count)

    async def WatchNotifications(
        self, request: pb.WatchNotificationsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[pb.WatchNotificationsResponse]:
        require_own(request.peer_id)
        cursor = await self._inbox.watch_start(request.peer_id, request.after_id)
        # Headers now tell the client the watch is in place: nothing after this is missed.
        await context.send_initial_metadata(())
        async for item in self._inbox.follow(request.peer_id, cursor):
            yield pb.WatchNotificationsResponse(notification=notification_to_proto(item))
