"""The chaos run: the journey at a steady rate on the HA topology, under a fault
schedule, then a reconciliation from the services' own stores.

Topology: three NATS nodes (R3), Valkey primary + replica + three Sentinels,
two replicas of each service, a mail sink. Journey, per tick: an intake; the
top candidate accepted (the scheduler books the first session by itself, the
notifier tells the peer in the inbox and by email); now and then an older
match closed. Clients retry UNAVAILABLE/DEADLINE_EXCEEDED/ABORTED with the
same idempotency key, on the other replica. Faults: kill -9 of the Valkey
primary (Sentinel promotes the replica; the old one returns as its replica),
kill -9 of a NATS node, SIGSTOP of a NATS node, kill -9 of a service replica
(restarted). Reconciliation reads the stores back through the services:
every acknowledged match is there, each has exactly one first session, the
peer's inbox holds one new-assignment item per match, every email went
once (by Message-ID). One line sums it up.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import grpc
import nats

from alongside.api.matcher.v1 import matcher_pb2 as mpb
from alongside.api.notifier.v1 import notifier_pb2 as npb
from alongside.api.scheduler.v1 import scheduler_pb2 as spb
from alongside.kit.events.streams import CATALOGUE, provision, stream_name
from alongside.kit.testing.auth import TEST_SECRET
from alongside.kit.testing.cluster import ClusterNode, NatsCluster, ValkeyHA
from alongside.kit.testing.processes import Child
from alongside.kit.testing.servers import provision_functions
from alongside.kit.testing.smtp import SmtpSink

from ..e2e.api import Api
from ..e2e.cohort import Cohort, key
from ..e2e.conftest import MATCHER_ENV, NOTIFIER_ENV, SCHEDULER_ENV, SERVICES
from ..e2e.observe import sent_by_email
from . import reconcile as reconciled

T = TypeVar("T")
TRANSIENT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED)
REPLICAS = 2


@dataclass
class Fault:
    at_s: float
    kind: str  # valkey-failover, nats-kill, nats-stop, service-kill, nats-outage


RECOVERY_LIMIT_S = 120.0  # a fault after which no call succeeds for this long is a failure
OUTAGE_S = 130.0  # "a NATS outage longer than 2 minutes"
SHORT = [Fault(8, "valkey-failover"), Fault(20, "nats-kill"), Fault(30, "service-kill")]
KINDS = ("valkey-failover", "nats-kill", "service-kill", "nats-stop")


def schedule(duration_s: float, outage: bool = False) -> list[Fault]:
    """Every 20 s the next of KINDS, until 10 s before the end; with ``outage``,
    every NATS node down at 90 s for OUTAGE_S, and no other fault meanwhile."""
    times = [t for t in range(20, int(duration_s) - 10, 20) if not (outage and 80 <= t < 110 + OUTAGE_S)]
    faults = [Fault(t, KINDS[n % len(KINDS)]) for n, t in enumerate(times)]
    return sorted([*faults, Fault(90, "nats-outage")] if outage else faults, key=lambda f: f.at_s)


@dataclass
class Tally:
    acknowledged: int = 0
    matches: list[tuple[str, str]] = field(default_factory=list)  # (peer_id, match_id)
    closed: set[str] = field(default_factory=set)
    submitted: set[str] = field(default_factory=set)  # request ids, acknowledged
    accepted: set[str] = field(default_factory=set)  # request ids whose accept was acknowledged
    faults: Counter[str] = field(default_factory=Counter)
    recoveries: list[float] = field(default_factory=list)
    last_ok: float = 0.0
    refused: int = 0  # accepts answered FAILED_PRECONDITION (the peer full): answers, not faults
    errors: list[str] = field(default_factory=list)  # journeys that failed for good


class Topology:
    def __init__(self) -> None:
        self.nats = NatsCluster()
        self.valkey = ValkeyHA()
        self.sink = SmtpSink()
        self.namespace = "chaos" + uuid.uuid4().hex[:8]
        self.replicas: dict[str, list[Child]] = {}
        self.current: dict[str, int] = {}
        self.nats_kills = 0

    async def start(self) -> None:
        await asyncio.to_thread(self.nats.start)
        await asyncio.to_thread(self.valkey.start)
        await asyncio.to_thread(provision_functions, self.valkey.admin_url)
        nc = await nats.connect(servers=self.nats.url.split(","))
        try:  # R3 streams, as an operator does before the services start
            await provision(nc.jetstream(timeout=30), self.namespace, replicas=3)
        finally:
            await nc.close()
        self.sink.start()
        for name in SERVICES:  # both replicas of a service at once
            started = await asyncio.gather(
                *(asyncio.to_thread(Child, f"alongside.{name}", self.env(name)) for _ in range(REPLICAS)),
                return_exceptions=True,
            )
            self.replicas[name] = [child for child in started if isinstance(child, Child)]  # closed by close()
            self.current[name] = 0
            failed = [exc for exc in started if isinstance(exc, BaseException)]
            if failed:
                raise failed[0]

    def env(self, name: str) -> dict[str, str]:
        extra = {"matcher": MATCHER_ENV, "scheduler": SCHEDULER_ENV, "notifier": NOTIFIER_ENV}[name]
        return {
            "SERVICE_NAME": name,
            "NAMESPACE": self.namespace,
            "NATS_URL": self.nats.url,
            "REDIS_URL": self.valkey.url,
            "REDIS_MIN_REPLICAS": "1",
            "PROVISION_STREAMS": "false",
            "PROVISION_FUNCTIONS": "false",
            "AUTH_HS256_SECRET": TEST_SECRET,
            "GRACE_SECONDS": "1",
            "SMTP_PORT": str(self.sink.port),
            **extra,
        }

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.replicas[name][self.current[name]].port}"

    def rotate(self, name: str) -> None:
        self.current[name] = (self.current[name] + 1) % REPLICAS

    async def inject(self, fault: Fault, rng: random.Random) -> None:
        if fault.kind == "valkey-failover":
            old = self.valkey.current_primary()
            old.kill()
            await _until(lambda: _promoted(self.valkey, old), 30)
            await asyncio.to_thread(self.valkey.restart, old)
        elif fault.kind == "nats-kill":  # every other time, the leader of the MATCH stream
            self.nats_kills += 1
            node = await self.stream_leader("MATCH") if self.nats_kills % 2 else rng.choice(self.nats.nodes)
            node.kill()
            await asyncio.sleep(3)
            await asyncio.to_thread(node.start)
        elif fault.kind == "nats-outage":  # every node down at once, for longer than two minutes
            for node in self.nats.nodes:
                node.kill()
            await asyncio.sleep(OUTAGE_S)
            await asyncio.gather(*(asyncio.to_thread(node.start) for node in self.nats.nodes))
        elif fault.kind == "nats-stop":
            node = rng.choice(self.nats.nodes)
            node.pause()
            await asyncio.sleep(30 if fault.at_s > 60 else 5)
            node.resume()
        elif fault.kind == "service-kill":
            name = rng.choice(SERVICES)
            index = rng.randrange(REPLICAS)
            child = self.replicas[name][index]
            child.stop(kill=True)
            self.replicas[name][index] = await asyncio.to_thread(Child, f"alongside.{name}", self.env(name))
            child.log.unlink(missing_ok=True)

    async def stream_leader(self, name: str) -> ClusterNode:
        """The node that leads a stream now (any node if none is known)."""
        (spec,) = [s for s in CATALOGUE if s.name == name]
        try:
            nc = await nats.connect(servers=self.nats.url.split(","), connect_timeout=5, max_reconnect_attempts=1)
            try:
                info = await nc.jetstream(timeout=5).stream_info(stream_name(self.namespace, spec))
            finally:
                await nc.close()
        except (nats.errors.Error, OSError, TimeoutError):
            return self.nats.nodes[0]
        leader = info.cluster.leader if info.cluster else None
        return next((node for node in self.nats.nodes if node.node_name == leader), self.nats.nodes[0])

    def close(self) -> None:
        for children in self.replicas.values():
            for child in children:
                child.close()
        with contextlib.suppress(Exception):  # (never started, if the servers failed first)
            self.sink.stop()
        self.valkey.close()
        self.nats.close()


def _promoted(ha: ValkeyHA, old: object) -> bool:
    try:
        return ha.current_primary() is not old
    except LookupError:
        return False


async def _until(predicate: Callable[[], Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.2)


class Journey:
    def __init__(self, topo: Topology, tally: Tally, peers: int) -> None:
        self.topo, self.tally = topo, tally
        self.cohort = Cohort()
        self.api = Api(topo.address, set())
        self.peers = peers
        self.closing: set[str] = set()
        self.enrolled: list[mpb.Peer] = []

    async def retried(self, service: str, call: Callable[[], Awaitable[T]], within: float = 60) -> T:
        """Until an answer, on the other replica after a transient failure."""
        deadline = time.monotonic() + within
        while True:
            try:
                result = await call()
                self.tally.last_ok = time.monotonic()
                return result
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in TRANSIENT or time.monotonic() > deadline:
                    raise
                self.topo.rotate(service)
                await asyncio.sleep(0.2)

    async def enrol(self) -> None:
        peers = self.enrolled = [self.cohort.peer(n) for n in range(1, self.peers + 1)]
        for peer in peers:

            async def enrol(peer: mpb.Peer = peer) -> None:
                await self.api.enrol(self.cohort, peer)

            await self.retried("matcher", enrol)
        for peer in peers:  # the scheduler has each peer's windows from the roster's events
            await _until(partial(self.api.knows_calendar, peer.peer_id), 60)

    async def one(self, n: int) -> None:
        request = self.cohort.intake(f"c{n}")
        submitted = await self.retried("matcher", lambda: self.api.submit(request))
        self.tally.submitted.add(submitted.request_id)
        self.tally.acknowledged += 1
        if not submitted.candidates:
            return
        peer_id, accept_key = submitted.candidates[0].peer_id, key()
        try:
            match = await self.retried("matcher", lambda: self.api.accept(submitted.request_id, peer_id, accept_key))
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            self.tally.refused += 1  # the peer filled up meanwhile: an answer, not a fault
            return
        self.tally.acknowledged += 1
        self.tally.accepted.add(submitted.request_id)
        self.tally.matches.append((peer_id, match.match_id))
        if n % 4 == 3:  # a close now and then frees capacity
            open_ = [m for m in self.tally.matches if m[1] not in self.tally.closed and m[1] not in self.closing]
            if not open_:
                return
            match_id = open_[0][1]
            self.closing.add(match_id)
            req = mpb.CloseMatchRequest(idempotency_key=key(), match_id=match_id, reason=mpb.CLOSE_REASON_COMPLETED)

            async def close() -> mpb.CloseMatchResponse:
                reply: mpb.CloseMatchResponse = await self.api.matcher("intake").CloseMatch(req)
                return reply

            await self.retried("matcher", close)
            self.tally.closed.add(match_id)
            self.tally.acknowledged += 1


async def run(duration_s: float, rate: float, faults: list[Fault], peers: int = 12, seed: int = 7) -> str:
    rng = random.Random(seed)
    topo, tally = Topology(), Tally()
    try:
        await topo.start()
        journey = Journey(topo, tally, peers)
        await journey.enrol()
        started = time.monotonic()
        pending = [asyncio.create_task(_fault_at(topo, tally, fault, started, rng)) for fault in faults]
        n = 0
        in_flight: set[asyncio.Task[None]] = set()
        while time.monotonic() - started < duration_s:
            task = asyncio.create_task(_guarded(journey.one(n), tally))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            n += 1
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*in_flight)
        await asyncio.gather(*pending)
        return summary(tally, *await reconcile(journey, topo, tally))
    finally:
        topo.close()


async def _guarded(step: Awaitable[None], tally: Tally) -> None:
    try:
        await step
    except grpc.aio.AioRpcError as exc:
        tally.errors.append(f"{exc.code().name}: {exc.details()}")


async def _fault_at(topo: Topology, tally: Tally, fault: Fault, started: float, rng: random.Random) -> None:
    await asyncio.sleep(max(0.0, started + fault.at_s - time.monotonic()))
    began = time.monotonic()
    injected = asyncio.create_task(topo.inject(fault, rng))
    # Recovery: from the fault until a call succeeds again (one that ends more than
    # half a second after it, so not a call that was already answered), while the
    # fault may still last (a stopped NATS node does not stop intake: the outbox holds).
    try:
        await _until(lambda: tally.last_ok > began + 0.5, RECOVERY_LIMIT_S)
        tally.recoveries.append(tally.last_ok - began)
    except TimeoutError:  # reported in the line, not raised: the reconciliation still runs
        tally.recoveries.append(RECOVERY_LIMIT_S)
        tally.errors.append(f"no call succeeded within {RECOVERY_LIMIT_S:.0f} s of {fault.kind} at {fault.at_s:.0f} s")
    await injected
    tally.faults[fault.kind] += 1


async def reconcile(journey: Journey, topo: Topology, tally: Tally) -> tuple[list[str], list[str], list[str]]:
    """From the stores, after the system settles: (lost, doubled, inconsistent) descriptions."""
    api, retried, lost, doubled = journey.api, journey.retried, [], []
    per_peer = Counter(peer for peer, _ in tally.matches)

    async def found(call: Callable[[], Awaitable[Any]]) -> Any:
        """The answer, or None when the store has no such thing."""
        try:
            return await retried("matcher", call)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    for _, match_id in tally.matches:
        got = await found(partial(api.matcher("intake").GetMatch, mpb.GetMatchRequest(match_id=match_id)))
        if got is None or got.match.match_id != match_id:
            lost.append(f"match {match_id}")
    for request_id in tally.submitted:
        got = await found(partial(api.matcher("intake").GetIntake, mpb.GetIntakeRequest(request_id=request_id)))
        if got is None or got.request.request_id != request_id:
            lost.append(f"request {request_id}")

    async def sessions_of(peer_id: str) -> dict[str, list[spb.Session]]:
        by_match: dict[str, list[spb.Session]] = defaultdict(list)
        for session in await reconciled.all_sessions(api, peer_id, retried):
            by_match[session.match_id].append(session)
        return by_match

    async def new_assignments(peer_id: str) -> list[npb.Notification]:
        items = await retried("notifier", partial(api.inbox, peer_id))
        return [i for i in items if i.kind == npb.KIND_ASSIGNMENT_NEW]

    async def settled() -> bool:
        for peer_id, count in per_peer.items():
            by_match = await sessions_of(peer_id)
            open_ = [m for p, m in tally.matches if p == peer_id and m not in tally.closed]
            if any(len(by_match[m]) != 1 for m in open_):
                return False
            items = await new_assignments(peer_id)
            if len(items) < count or not all(sent_by_email(i) for i in items):
                return False
        return True

    with contextlib.suppress(TimeoutError):  # what has not settled by then counts as lost
        await _until(settled, 90)
    inconsistent: list[str] = []
    for peer_id, count in per_peer.items():
        by_match = await sessions_of(peer_id)
        inconsistent += reconciled.overlapping(s for found in by_match.values() for s in found)
        for match_id in (m for p, m in tally.matches if p == peer_id):
            if len(by_match[match_id]) > 1:
                doubled.append(f"sessions of {match_id}")
            elif not by_match[match_id] and match_id not in tally.closed:
                lost.append(f"session of {match_id}")
        items = await new_assignments(peer_id)
        if len(items) < count:
            lost.append(f"{count - len(items)} inbox items of {peer_id}")
        unsent = [i for i in items if not sent_by_email(i)]
        if unsent:
            lost.append(f"{len(unsent)} emails to {peer_id}")
        elif len(items) > count:
            doubled.append(f"{len(items) - count} inbox items of {peer_id}")
    ids = Counter(str(mail.message["Message-ID"]) for mail in topo.sink.mails)  # what the sink received
    doubled += [f"email {mid}" for mid, count in ids.items() if count > 1]
    inconsistent += await reconciled.loads(api, [peer.peer_id for peer in journey.enrolled], retried)
    writes = {"SubmitMatchRequest": tally.submitted, "AcceptMatch": tally.accepted, "CloseMatch": tally.closed}
    missing, problems = await reconciled.audit_trail(partial(topo.address, "matcher"), writes, retried)
    lost += missing
    inconsistent += problems
    inconsistent += await reconciled.dead_letters(topo.nats.url, topo.namespace)
    return lost, doubled, inconsistent


def summary(tally: Tally, lost: list[str], doubled: list[str], inconsistent: list[str]) -> str:
    faults = ", ".join(f"{kind} {count}" for kind, count in sorted(tally.faults.items()))
    recoveries = sorted(tally.recoveries)
    p99 = recoveries[min(len(recoveries) - 1, int(len(recoveries) * 0.99))] if recoveries else 0.0
    return (
        f"chaos: {tally.acknowledged:,} acknowledged, {sum(tally.faults.values())} faults ({faults}), "
        f"{len(lost)} lost, {len(doubled)} duplicated, {len(tally.errors)} failed, {len(inconsistent)} inconsistent, "
        f"recovery p99 {p99:.1f} s"
        + (f"\nerrors: {tally.errors[:10]}" if tally.errors else "")
        + (f"\nlost: {lost[:10]}" if lost else "")
        + (f"\nduplicated: {doubled[:10]}" if doubled else "")
        + (f"\ninconsistent: {inconsistent[:10]}" if inconsistent else "")
    )


def passed(line: str) -> bool:
    """The summary line says nothing was lost, doubled, failed or inconsistent."""
    return " 0 lost, 0 duplicated, 0 failed, 0 inconsistent," in line
