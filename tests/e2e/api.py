"""gRPC clients to the live processes, one token per role, and the steps of
the journey as staff and peers take them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import grpc
from grpc import aio

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.matcher.v1 import matcher_pb2_grpc
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.notifier.v1 import notifier_pb2_grpc
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.api.scheduler.v1 import scheduler_pb2_grpc
from alongside.kit.testing import auth
from alongside.kit.testing.wait import eventually

from .cohort import Cohort, key
from .observe import describe, of_kind, sent_by_email


class Api:
    """gRPC stubs to the live processes, each call with a token for a role.

    Channels are looked up by the service's current address, so after a
    restart the next call reaches the new process."""

    def __init__(self, address: Callable[[str], str], canaries: set[str]) -> None:
        self._address = address
        self._channels: dict[tuple[str, str, str], aio.Channel] = {}
        self.canaries = canaries

    def _channel(self, service: str, role: str, subject: str) -> aio.Channel:
        slot = (self._address(service), role, subject)
        if slot not in self._channels:
            self._channels[slot] = auth.channel(slot[0], role=role, subject=subject)
        return self._channels[slot]

    def matcher(self, role: str = "intake") -> matcher_pb2_grpc.MatcherServiceStub:
        return matcher_pb2_grpc.MatcherServiceStub(self._channel("matcher", role, f"staff-{role}"))

    def scheduler(self, role: str = "intake") -> scheduler_pb2_grpc.SchedulerServiceStub:
        return scheduler_pb2_grpc.SchedulerServiceStub(self._channel("scheduler", role, f"staff-{role}"))

    def notifier(self, peer_id: str) -> notifier_pb2_grpc.NotifierServiceStub:
        """As the peer themself: a peer reads only their own inbox."""
        return notifier_pb2_grpc.NotifierServiceStub(self._channel("notifier", "peer", peer_id))

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()

    # Roster and contact preferences.

    async def enrol(self, cohort: Cohort, *peers: mpb.Peer, email: bool = True) -> None:
        """Add peers to the roster (as a manager); each asks for email too (as the peer)."""
        for peer in peers:
            self.canaries.add(peer.display_name)
            await self.matcher("manager").UpsertPeer(mpb.UpsertPeerRequest(idempotency_key=key(), peer=peer))
            if email:
                n = int(peer.peer_id.rsplit("-", 1)[1])
                self.canaries.add(cohort.email(n))
                prefs = npb.ContactPreferences(
                    peer_id=peer.peer_id,
                    language="en",
                    time_zone=cohort.zone,
                    channels=[npb.CHANNEL_INBOX, npb.CHANNEL_EMAIL],
                    email=cohort.email(n),
                )
                await self.notifier(peer.peer_id).SetContactPreferences(
                    npb.SetContactPreferencesRequest(idempotency_key=key(), preferences=prefs)
                )

    # Intake and matches.

    async def submit(self, request: mpb.SubmitMatchRequestRequest) -> mpb.MatchRequest:
        return (await self.matcher().SubmitMatchRequest(request)).request

    async def accept(self, request_id: str, peer_id: str, idempotency_key: str = "") -> mpb.Match:
        req = mpb.AcceptMatchRequest(idempotency_key=idempotency_key or key(), request_id=request_id, peer_id=peer_id)
        return (await self.matcher().AcceptMatch(req)).match

    # Sessions.

    async def sessions(self, peer_id: str) -> list[spb.Session]:
        return list((await self.scheduler().ListSessions(spb.ListSessionsRequest(peer_id=peer_id))).sessions)

    async def booked(self, peer_id: str, match_id: str) -> list[spb.Session]:
        return [
            s for s in await self.sessions(peer_id) if s.match_id == match_id and s.status == spb.SESSION_STATUS_BOOKED
        ]

    async def first_session(self, peer_id: str, match_id: str) -> spb.Session:
        """Wait for the session the scheduler books on its own for an accepted match."""

        async def one() -> bool:
            return len(await self.booked(peer_id, match_id)) == 1

        await eventually(one, timeout=20, what="the first session booked by the scheduler")
        (session,) = await self.booked(peer_id, match_id)
        return session

    async def knows_calendar(self, peer_id: str) -> bool:
        """The scheduler has the peer's windows from the roster's event."""
        try:
            reply = await self.scheduler().FindSlots(
                spb.FindSlotsRequest(peer_id=peer_id, duration_minutes=15, limit=1)
            )
        except aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        return bool(reply.slots)

    # Inbox.

    async def inbox(self, peer_id: str) -> list[npb.Notification]:
        reply = await self.notifier(peer_id).ListNotifications(npb.ListNotificationsRequest(peer_id=peer_id))
        return list(reply.notifications)

    async def delivered(self, peer_id: str, *kinds: int) -> bool:
        """At least this many inbox items of each kind (repeat a kind to ask for
        more), every one of them sent by email too."""
        items = await self.inbox(peer_id)
        for kind, count in Counter(kinds).items():
            found = of_kind(items, kind)
            if len(found) < count or not all(sent_by_email(n) for n in found):
                return False
        return True

    async def told(self, peer_id: str, *kinds: int, timeout: float = 20.0) -> None:
        """Wait until ``delivered``; on timeout, say what the inbox holds."""
        try:
            await eventually(lambda: self.delivered(peer_id, *kinds), timeout=timeout, what="the peer told")
        except AssertionError:
            held = [describe(n) for n in await self.inbox(peer_id)]
            wanted = [npb.Kind.Name(k) for k in kinds]
            raise AssertionError(f"{peer_id} not told {wanted} within {timeout}s; inbox: {held}") from None
